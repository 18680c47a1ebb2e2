"""Messages shared between screens, in the past tense. A widget's own messages live in it.

The chain: SpecChanged -> (app validates) -> PreflightFinished -> ModelFetched -> RunLaunched.
Core results from workers: HardwareDetected, CachedModelsListed, ModelInspected, RunsListed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual.message import Message


@dataclass
class SpecChanged(Message):
    """The user changed fields of the draft spec: dotted path -> new value (maybe invalid).
    `typing`: a keystroke in a text field, so slow follow-ups wait for a pause."""

    changes: dict[str, Any]
    typing: bool = False


@dataclass
class StepRequested(Message):
    """Show a wizard step, optionally focusing one field on it (`train.learning_rate`)."""

    step_id: str
    field: str | None = None


@dataclass
class PresetChosen(Message):
    """Load this preset into the wizard (None = start fresh from the defaults)."""

    name: str | None


@dataclass
class PresetSaved(Message):
    name: str
    path: Path


@dataclass
class HardwareDetected(Message):
    report: Any  # ftui.core.hardware.HardwareReport, or None when unavailable
    error: str | None = None


@dataclass
class CachedModelsListed(Message):
    models: list[Any]
    error: str | None = None


@dataclass
class ModelInspected(Message):
    key: tuple[str, str | None, bool]
    facts: Any  # ftui.core.model.facts.ModelFacts, or None with error
    error: str | None = None


@dataclass
class RunsListed(Message):
    runs: list[Any]
    error: str | None = None


@dataclass
class PreflightFinished(Message):
    report: Any  # ftui.core.check.preflight.PreflightReport, or None with error
    error: str | None = None


@dataclass
class ModelDownloadProgressed(Message):
    """Bytes of the model fetched so far; a burst coalesces to the newest."""

    done: int
    total: int

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ModelDownloadProgressed)


@dataclass
class ModelFetched(Message):
    """The model is on disk (error None), or why it could not be fetched."""

    error: str | None


@dataclass
class RunLaunched(Message):
    run_dir: Path


@dataclass
class RunChosen(Message):
    """Open the monitor on this run (a row of a runs list)."""

    run_dir: Path


@dataclass
class LaunchFailed(Message):
    error: str
