"""Messages shared between screens, in the past tense. A widget's own messages live in it.

The chain: SpecChanged -> (app validates) -> PreflightFinished -> ModelFetched -> RunLaunched.
Core results from the app's workers: HardwareDetected, CachedModelsListed, ModelInspected,
RunsListed. They carry only what was loaded: a worker that fails posts nothing, and the app's
one failure handler shows why on the state it was loading.

The core types are imported for type checkers only, so importing this module (at start-up)
imports none of the model or data code.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.message import Message

if TYPE_CHECKING:
    from ftui.core.check.preflight import PreflightReport
    from ftui.core.hardware import HardwareReport
    from ftui.core.model.facts import ModelFacts
    from ftui.core.model.hub import CachedModel
    from ftui.core.runs.status import RunInfo
    from ftui.core.spec import RunSpec

# What a model inspection is for: (model.name_or_path, model.revision, model.trust_remote_code).
ModelKey = tuple[str, "str | None", bool]


@dataclass
class SpecChanged(Message):
    """The user changed fields of the draft spec: dotted path -> new value (maybe invalid).
    `typing`: a keystroke in a text field, so slow follow-ups wait for a pause."""

    changes: dict[str, Any]
    typing: bool = False


@dataclass
class DataMappingChecked(Message):
    """The Data step resolved the spec's mapping on the rows it read: the problem (the line
    it shows in red), or None. The step list marks the Data step while there is one."""

    problem: str | None


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
    """The save-preset dialog wrote the spec as preset `name`, to `path`."""

    name: str
    path: Path


@dataclass
class HardwareDetected(Message):
    report: HardwareReport


@dataclass
class CachedModelsListed(Message):
    models: list[CachedModel]


@dataclass
class ModelInspected(Message):
    """The facts of the model `key` names (the app drops them when the spec names another)."""

    key: ModelKey
    facts: ModelFacts


@dataclass
class RunsListed(Message):
    runs: list[RunInfo]


@dataclass
class PreflightFinished(Message):
    """Preflight ran on `spec`: the report says whether a launch is refused, and why."""

    report: PreflightReport
    spec: RunSpec | None = None


@dataclass
class ModelDownloadProgressed(Message):
    """Bytes of the model fetched so far; a burst coalesces to the newest."""

    done: int
    total: int

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ModelDownloadProgressed)


@dataclass
class ModelFetched(Message):
    """The model is on disk, at `path` (a local model's own folder, else its cache snapshot)."""

    path: Path


@dataclass
class RunLaunched(Message):
    run_dir: Path


@dataclass
class RunChosen(Message):
    """Open the monitor on this run (a row of a runs list)."""

    run_dir: Path
