"""Helpers shared by command modules: error printing and spec loading from a name or path."""

from __future__ import annotations

import sys
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
