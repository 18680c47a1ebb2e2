"""The `ftui` command. With no subcommand it opens the wizard.

Subcommands live in ftui/commands/<area>.py, each with `register(subparsers)`; they are found
here by name so each area owns its own file. Handlers import heavy modules lazily.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

import ftui.commands
from ftui import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ftui",
        description="Fine-tune an LLM from the terminal. With no command, opens the wizard.",
    )
    parser.add_argument("--version", action="version", version=f"ftui {__version__}")
    parser.add_argument("--preset", help="open the wizard on this preset (name or YAML path)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    modules = sorted(pkgutil.iter_modules(ftui.commands.__path__), key=lambda m: m.name)
    for info in (m for m in modules if not m.name.startswith("_")):
        module = importlib.import_module(f"ftui.commands.{info.name}")
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        from ftui.tui.launch_app import run_app

        return run_app(preset=args.preset)
    from ftui.core.spec import SpecError

    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except SpecError as exc:  # e.g. a run's config.yaml edited by hand: a message, not a traceback
        for line in exc.problems:
            print(f"error: {line}", file=sys.stderr)
        return 2


def entry(argv: list[str] | None = None) -> int:
    """The `ftui` executable (and `python -m ftui`): library noise down, main(), then a
    prompt exit."""
    from ftui.core.quiet import quiet_libraries

    quiet_libraries()
    try:
        return main(argv)
    finally:
        exit_promptly()


def exit_promptly() -> None:
    """Spare the interpreter's last full garbage collection: with a model and the HF stack
    loaded it walks millions of objects and the terminal sits blank for seconds after a quit
    (ctrl+q in the playground: ~6 s on a toy model). The process is ending; the heap is freed
    by the OS. Atexit handlers and flushing still run."""
    import gc

    gc.freeze()


if __name__ == "__main__":
    raise SystemExit(entry())
