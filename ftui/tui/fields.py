"""What kind of input a RunSpec field needs, and how its text becomes a value and back.

Read from the pydantic annotations, so a new field in `ftui.core.spec` gets the right widget
without a change here. Text that does not parse is kept as text: validation then names it.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from typing import Any, Literal, Union

from ftui.core.spec import spec_field


@dataclass(frozen=True)
class FieldInfo:
    path: str
    kind: Literal["bool", "choice", "text"]
    choices: tuple[str, ...] = ()
    optional: bool = False
    # For text fields: the types tried in order when parsing ("int", "float", "list", "str").
    parses: tuple[str, ...] = ("str",)
    literals: tuple[str, ...] = ()


def is_field(path: str) -> bool:
    try:
        spec_field(path)
    except KeyError:
        return False
    return True


def _flatten(annotation: Any) -> list[Any]:
    origin = typing.get_origin(annotation)
    if origin is Union or origin is types.UnionType:
        out: list[Any] = []
        for arg in typing.get_args(annotation):
            out.extend(_flatten(arg))
        return out
    return [annotation]


def field_info(path: str) -> FieldInfo:
    options = _flatten(spec_field(path).annotation)
    optional = type(None) in options
    options = [o for o in options if o is not type(None)]
    literals: list[str] = []
    parses: list[str] = []
    for option in options:
        origin = typing.get_origin(option)
        if origin is Literal:
            literals.extend(str(v) for v in typing.get_args(option))
        elif option is bool:
            return FieldInfo(path, "bool", optional=optional)
        elif option is int:
            parses.append("int")
        elif option is float:
            parses.append("float")
        elif origin is list:
            item = typing.get_args(option)[0] if typing.get_args(option) else str
            parses.append("intlist" if item is int else "list")
        else:
            parses.append("str")
    if literals and not parses:
        return FieldInfo(path, "choice", tuple(literals), optional)
    return FieldInfo(path, "text", (), optional, tuple(parses) or ("str",), tuple(literals))


def parse_text(info: FieldInfo, text: str) -> Any:
    """The value for what was typed; unparseable text is returned as is (validation names it)."""
    text = text.strip()
    if not text and info.optional:
        return None
    if text in info.literals:
        return text
    for kind in info.parses:
        if kind == "int":
            try:
                return int(text)
            except ValueError:
                continue
        if kind == "float":
            try:
                return float(text)
            except ValueError:
                continue
        if kind == "list":
            return [p.strip() for p in text.split(",") if p.strip()]
        if kind == "intlist":
            try:
                return [int(p) for p in text.split(",") if p.strip()]
            except ValueError:
                return text
        if kind == "str":
            return text
    return text


def format_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}" if abs(value) < 1e-3 and value != 0 else repr(value).removesuffix(".0")
    return str(value)
