"""Helpers shared by command modules: error printing, spec loading from a name or path, and
finding a RUN argument (every command resolves it the same way: core.runs.status.find_run)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ftui.core.spec import RunSpec


def fail(lines: list[str] | str, code: int = 2) -> int:
    if isinstance(lines, str):
        lines = [lines]
    for line in lines:
        print(f"error: {line}", file=sys.stderr)
    return code


def checkpoint_arg(text: str) -> int | str:
    """argparse type for --checkpoint: best, final or a step number."""
    import argparse

    from ftui.core.runs.checkpoints import parse_checkpoint_choice

    try:
        return parse_checkpoint_choice(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--checkpoint: ")) from None


def add_spec_args(parser) -> None:  # type: ignore[no-untyped-def]
    parser.add_argument("spec", metavar="SPEC", help="a YAML file or a preset name")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a field, e.g. --set train.learning_rate=1e-4 (repeatable)",
    )


def load_spec_arg(args) -> RunSpec:  # type: ignore[no-untyped-def]
    """Raises SpecError with readable lines."""
    from ftui.core.presets import resolve_spec

    return resolve_spec(args.spec, args.overrides)


def add_root_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--root",
        type=Path,
        default=None,
        help="where runs live (default: runs/ in this directory, or $FTUI_RUNS)",
    )


def runs_root(args: argparse.Namespace) -> Path:
    from ftui.core.locations import default_runs_root

    root = getattr(args, "root", None)
    return root if root is not None else default_runs_root()


def resolve_run_arg(args: argparse.Namespace) -> Path | int:
    """args.run as a run directory (a path, a name or a unique prefix under --root); with no
    RUN, the newest live run, else the newest. An exit code (after the error) when none."""
    from ftui.core.runs.status import RunNotFound, find_run, list_runs

    root = runs_root(args)
    if getattr(args, "run", None) is None:
        runs = list_runs(root)
        if not runs:
            return fail(f"no runs under {root}/ (use --root DIR)")
        live = [r for r in runs if r.live]
        return (live or runs)[0].path
    try:
        return find_run(args.run, root)
    except RunNotFound as error:
        return fail(str(error))
