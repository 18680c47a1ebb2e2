"""Warn before the playground loads a model onto a GPU that a live training run is using.

Simple and honest: a run counts as using a GPU when its process group is alive
(`run_is_live`) and its `launch.gpus` lists that GPU (or lists none, which means all GPUs).
It does not look at what the GPU's memory holds.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ftui.core import locations
from ftui.core.runs.processes import run_is_live
from ftui.core.runs.rundir import RunPaths
from ftui.core.spec import SpecError, load_spec_file


@dataclass(frozen=True)
class BusyGpu:
    run_dir: Path
    gpus: list[int] | None  # None: the run may use every GPU


def playground_gpu() -> int:
    """The physical index of the GPU a model lands on (cuda:0 under CUDA_VISIBLE_DEVICES)."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",")[0].strip()
    return int(visible) if visible.isdigit() else 0


def runs_roots_near(target: str | Path) -> list[Path]:
    """Where to look for live runs: next to the target run, and the default runs/ root."""
    roots: list[Path] = []
    path = Path(target)
    if RunPaths(path).config.is_file():
        roots.append(path.resolve().parent)
    default = locations.default_runs_root().resolve()
    if default not in roots:
        roots.append(default)
    return roots


def live_runs_on_gpu(roots: list[Path], gpu: int) -> list[BusyGpu]:
    out: list[BusyGpu] = []
    for root in roots:
        if not root.is_dir():
            continue
        for run_dir in sorted(root.iterdir()):
            paths = RunPaths(run_dir)
            if not paths.run_json.is_file() or not run_is_live(run_dir):
                continue
            try:
                gpus = load_spec_file(paths.config).launch.gpus
            except SpecError:
                gpus = None  # unreadable config: assume the worst
            if gpus is None or gpu in gpus:
                out.append(BusyGpu(run_dir, gpus))
    return out


def gpu_load_warning(
    target: str | Path, device: str, roots: list[Path] | None = None
) -> str | None:
    """A warning to show before loading onto `device`, or None when nothing is in the way."""
    if not device.startswith("cuda"):
        return None
    gpu = playground_gpu()
    busy = live_runs_on_gpu(roots if roots is not None else runs_roots_near(target), gpu)
    if not busy:
        return None
    names = ", ".join(b.run_dir.name for b in busy)
    return (
        f"GPU {gpu} is in use by a live training run ({names}). Loading a model there "
        "takes memory the run may need and can make it fail with out-of-memory. "
        "Load anyway, or wait for the run to finish (or pick another GPU with "
        "CUDA_VISIBLE_DEVICES)."
    )
