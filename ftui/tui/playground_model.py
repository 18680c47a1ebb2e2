"""What the playground loads for a run (or a model): the weights, the adapters it can switch
between, and the probe prompts. Plain functions for the playground screen's load worker;
torch and transformers are imported inside them, never at start-up."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ftui.core.playground.compare import (
    AdapterSource,
    Probe,
    adapter_sources,
    best_source,
    probe_prompts,
)
from ftui.core.playground.session import BASE
from ftui.core.runs.rundir import RunPaths

if TYPE_CHECKING:
    from ftui.core.playground.inference import ChatModel, Progress


@dataclass(frozen=True)
class PlaygroundModel:
    cm: ChatModel
    sources: list[AdapterSource]  # every checkpoint adapter and final/, oldest first
    probes: list[Probe]
    loaded_choice: str  # the weights option the loaded adapter is (BASE or a source name)


def pick_device(device: str | None) -> str:
    """The given device, else cuda when there is one, else cpu (this imports torch)."""
    if device:
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def load_playground_model(
    target: Path, checkpoint: int | None, device: str, progress: Progress
) -> PlaygroundModel:
    """A run opens its best checkpoint by eval loss (`run_weights_dir`), else final/; without
    either, and without a chosen checkpoint, its newest complete one (or the base, when it has
    none); a model that is not a run is loaded as it is."""
    from ftui.core.playground.inference import load_chat_model

    paths = RunPaths(target)
    is_run = paths.config.is_file()
    sources = adapter_sources(target) if is_run else []
    base_only = False
    if is_run and checkpoint is None and not paths.final.is_dir() and not best_source(sources):
        steps = [s.step for s in sources if s.step is not None]
        checkpoint, base_only = (steps[-1], False) if steps else (None, True)
    cm = load_chat_model(
        target, base=base_only, checkpoint=checkpoint, device=device, progress=progress
    )
    probes: list[Probe] = []
    if is_run:
        try:
            probes = probe_prompts(cm.spec)
        except Exception:  # probes are optional: typed ones still work
            probes = []
    loaded = str(Path(cm.adapters.get("default", "")).resolve())
    choice = next((s.name for s in sources if str(s.path.resolve()) == loaded), BASE)
    return PlaygroundModel(cm, sources, probes, choice)
