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
    probe_prompts,
)
from ftui.core.playground.session import BASE
from ftui.core.runs.checkpoints import FINAL, CheckpointChoice, run_weights
from ftui.core.runs.rundir import RunPaths, checkpoint_step

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
    target: Path, checkpoint: CheckpointChoice, device: str, progress: Progress
) -> PlaygroundModel:
    """A run opens the weights `run_weights` picks (the best by eval loss, else final/); without
    final/ and without a chosen checkpoint, its newest complete one (or the base, when it has
    none); an incomplete final/ is refused, naming the newest complete checkpoint; a model that
    is not a run is loaded as it is."""
    from ftui.core.playground.inference import load_chat_model

    is_run = RunPaths(target).config.is_file()
    sources = adapter_sources(target) if is_run else []
    base_only = False
    if is_run and checkpoint is None:
        weights = run_weights(target, newest_if_unfinished=True)  # an incomplete final/ raises
        checkpoint = (checkpoint_step(weights) or FINAL) if weights is not None else None
        base_only = weights is None
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
