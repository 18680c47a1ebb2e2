"""`Loaded`: a slow result as the UI sees it, and `reason`, the line a failure is shown as."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Loaded(Generic[T]):
    """Loading, loaded (`value`) or failed (`error`); `key` names what it was loaded for (a
    model name and revision), so a result for an older request can be dropped."""

    value: T | None = None
    error: str | None = None
    loading: bool = False
    key: Any = None


def reason(error: BaseException | None) -> str:
    """An exception as the one line the user is shown: its message, else its type's name."""
    if error is None:
        return "unknown error"
    return str(error).strip() or type(error).__name__
