"""The spec being edited: a plain dict that may hold invalid values, validated on every change.

A RunSpec cannot hold an invalid value, but a half-typed field is one; so the wizard edits a
dict and builds a RunSpec from it after each change. Each error line from `spec_from_dict`
starts with the field it is about (`train.learning_rate: expected ...`); contradictions name
a second field in the text, and both are marked.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

from ftui.core.spec import (
    RunSpec,
    SpecError,
    get_value,
    section_keys,
    set_value,
    spec_from_dict,
)
from ftui.tui.fields import is_field
from ftui.tui.steps import step_for_field

_PATH = re.compile(rf"\b(?:{'|'.join(section_keys())})(?:\.[a-z_]+)*")


@dataclass(frozen=True)
class Validation:
    """The result of validating a draft: the spec when valid, and every error by field."""

    spec: RunSpec | None
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.spec is not None

    def errors_for(self, prefix: str) -> list[str]:
        """Errors on `prefix` or anything below it (data.columns covers data.columns.prompt)."""
        out: list[str] = []
        for path, lines in self.errors.items():
            if path == prefix or path.startswith(prefix + "."):
                out.extend(line for line in lines if line not in out)
        return out

    def invalid_steps(self) -> set[str]:
        return {step_for_field(path) for path in self.errors}

    def all_errors(self) -> list[str]:
        out: list[str] = []
        for lines in self.errors.values():
            out.extend(line for line in lines if line not in out)
        return out

    def first_error_field(self) -> str | None:
        return next(iter(self.errors), None)


def named(field: str, message: str) -> str:
    """`field: message`, unless the message already starts with its field."""
    return message if not field or message.startswith(f"{field}:") else f"{field}: {message}"


def error_fields(line: str) -> list[str]:
    """The fields an error line is about: its `field:` prefix, then other fields it names."""
    head, sep, rest = line.partition(":")
    found: list[str] = []
    if sep and _PATH.fullmatch(head.strip()):
        found.append(head.strip())
    for match in _PATH.finditer(rest if sep else line):
        path = match.group(0).rstrip(".")
        if "." in path and is_field(path) and path not in found:
            found.append(path)
    return found or ["spec"]


def map_errors(problems: list[str]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for line in problems:
        for path in error_fields(line):
            errors.setdefault(path, []).append(line)
    return errors


class SpecDraft:
    """A RunSpec as an editable dict. `get`/`set` take dotted paths (`train.learning_rate`)."""

    def __init__(self, spec: RunSpec | None = None) -> None:
        self.data: dict[str, Any] = (spec or RunSpec()).model_dump(mode="json")

    def get(self, path: str) -> Any:
        return copy.deepcopy(get_value(self.data, path))

    def set(self, path: str, value: Any) -> None:
        set_value(self.data, path, copy.deepcopy(value))

    def validate(self) -> Validation:
        try:
            return Validation(spec_from_dict(copy.deepcopy(self.data)))
        except SpecError as exc:
            return Validation(None, map_errors(exc.problems))
