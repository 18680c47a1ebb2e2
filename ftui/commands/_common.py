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
