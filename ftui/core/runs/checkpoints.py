"""Checkpoint completeness: a checkpoint counts only when it is marked COMPLETE and every file
in it parses. Incomplete ones are set aside under a name that says why, never used silently,
never deleted.

Checks are cheap and torch-free: JSON files load, safetensors headers parse and account for
every byte, torch files are non-empty and (zip format) have a readable central directory.
"""

from __future__ import annotations

import json
import os
import struct
import zipfile
from pathlib import Path
from typing import Any, Literal

from ftui.core.runs.rundir import IN_RUN, RunPaths, checkpoint_step, read_json_object

COMPLETE_MARKER = RunPaths.COMPLETE_MARKER
TORCH_SUFFIXES = (".pt", ".pth", ".bin")
MAX_SAFETENSORS_HEADER = 100 * 1024 * 1024  # the format's own limit
BEST, FINAL = "best", "final"
# Which weights of a run chat and export use: None (the default) and "best" are the lowest
# eval loss (final/ when nothing has one), "final" is final/, N is checkpoint-N.
CheckpointChoice = int | Literal["best", "final"] | None


def checkpoint_problem(path: str | os.PathLike[str]) -> str | None:
    """Why this checkpoint cannot be used (a short slug such as "truncated-json"), or None."""
    root = Path(path)
    if not root.is_dir():
        return "missing"
    if not (root / COMPLETE_MARKER).is_file():
        return "no-complete-marker"
    files = [p for p in sorted(root.rglob("*")) if p.is_file() and p.name != COMPLETE_MARKER]
    if not files:
        return "empty"
    problem = _marker_problem(root)
    if problem:
        return problem
    for file in files:
        problem = _file_problem(file)
        if problem:
            return problem
    return None


def _marker_problem(root: Path) -> str | None:
    """The worker's marker may list every file with its size: each must still be there, whole.
    An empty marker (written by other tools) only says the save finished."""
    raw = (root / COMPLETE_MARKER).read_bytes()
    if not raw.strip():
        return None
    try:
        marker = json.loads(raw)
    except ValueError:
        return "bad-complete-marker"
    listed = marker.get("files") if isinstance(marker, dict) else None
    if not isinstance(listed, dict):
        return None
    for name, size in listed.items():
        file = root / name
        if not file.is_file():
            return "missing-file"
        if isinstance(size, int) and file.stat().st_size != size:
            return "file-size-changed"
    return None


def checkpoint_marker(path: str | os.PathLike[str]) -> dict[str, Any]:
    """What the worker wrote into a checkpoint's marker (step, files, resume_key); {} if none."""
    return read_json_object(Path(path) / COMPLETE_MARKER)


def checkpoint_is_complete(path: str | os.PathLike[str]) -> bool:
    return checkpoint_problem(path) is None


def _file_problem(file: Path) -> str | None:
    name = file.name.lower()
    try:
        if name.endswith(".json"):
            return _json_problem(file)
        if name.endswith(".safetensors"):
            return _safetensors_problem(file)
        if name.endswith(TORCH_SUFFIXES):
            return _torch_file_problem(file)
    except OSError:
        return "unreadable"
    return None


def _json_problem(file: Path) -> str | None:
    try:
        json.loads(file.read_bytes())
    except ValueError:
        return "truncated-json"
    return None


def _safetensors_problem(file: Path) -> str | None:
    """8-byte little-endian header length, a JSON header, then exactly the bytes it describes."""
    size = file.stat().st_size
    if size < 8:
        return "empty-weights" if size == 0 else "truncated-safetensors"
    with open(file, "rb") as fh:
        (header_len,) = struct.unpack("<Q", fh.read(8))
        if header_len > MAX_SAFETENSORS_HEADER or 8 + header_len > size:
            return "truncated-safetensors"
        try:
            header = json.loads(fh.read(header_len))
        except ValueError:
            return "truncated-safetensors"
    if not isinstance(header, dict):
        return "truncated-safetensors"
    end = 0
    for key, entry in header.items():
        if key == "__metadata__":
            continue
        offsets = entry.get("data_offsets") if isinstance(entry, dict) else None
        if not (isinstance(offsets, list) and len(offsets) == 2):
            return "truncated-safetensors"
        end = max(end, int(offsets[1]))
    if 8 + header_len + end != size:
        return "truncated-safetensors"
    return None


def _torch_file_problem(file: Path) -> str | None:
    size = file.stat().st_size
    if size == 0:
        return "empty-weights"
    with open(file, "rb") as fh:
        magic = fh.read(4)
    if magic == b"PK\x03\x04":  # torch.save's zip format: the central directory sits at the end
        try:
            with zipfile.ZipFile(file) as archive:
                archive.infolist()
        except (zipfile.BadZipFile, ValueError):
            return "truncated-torch-file"
    return None


def list_checkpoints(run_dir: str | os.PathLike[str]) -> list[Path]:
    """checkpoint-N directories under run_dir/checkpoints (or run_dir itself), newest step first."""
    base = Path(run_dir)
    folder = RunPaths(base).checkpoints if RunPaths(base).checkpoints.is_dir() else base
    try:
        found = [p for p in folder.iterdir() if p.is_dir() and checkpoint_step(p) is not None]
    except OSError:
        return []
    return sorted(found, key=lambda p: checkpoint_step(p) or 0, reverse=True)


def set_aside(path: Path, reason: str) -> Path:
    """Rename an unusable checkpoint to checkpoint-N.incomplete-<reason> (a free name)."""
    target = path.with_name(f"{path.name}.incomplete-{reason}")
    n = 2
    while target.exists():
        target = path.with_name(f"{path.name}.incomplete-{reason}-{n}")
        n += 1
    path.rename(target)
    return target


def newest_complete_checkpoint(
    run_dir: str | os.PathLike[str], set_aside_incomplete: bool = True
) -> Path | None:
    """The newest checkpoint that is complete. Newer incomplete ones are renamed out of the way
    (only call with set_aside_incomplete=True when no process is writing checkpoints)."""
    for path in list_checkpoints(run_dir):
        problem = checkpoint_problem(path)
        if problem is None:
            return path
        if set_aside_incomplete:
            set_aside(path, problem)
    return None


def recorded_eval_loss(weights: str | os.PathLike[str]) -> float | None:
    """The eval loss a checkpoint (or final/) was saved with, or None when it has no record."""
    import math

    value = read_json_object(Path(weights) / RunPaths.EVAL_RECORD).get("eval_loss")
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    return None


def best_checkpoint(run_dir: str | os.PathLike[str]) -> Path | None:
    """The complete checkpoint or final/ with the lowest recorded eval loss; on a tie the later
    one (final/ last). None when none has an eval loss (a run without eval rows)."""
    paths = RunPaths(Path(run_dir))
    candidates = [p for p in reversed(list_checkpoints(paths.root)) if checkpoint_is_complete(p)]
    if checkpoint_is_complete(paths.final):
        candidates.append(paths.final)
    best: tuple[float, Path] | None = None
    for path in candidates:
        loss = recorded_eval_loss(path)
        if loss is not None and (best is None or loss <= best[0]):
            best = (loss, path)
    return best[1] if best else None


def parse_checkpoint_choice(text: str) -> int | Literal["best", "final"]:
    """`--checkpoint`'s value: best, final or a step number."""
    value = text.strip().lower()
    if value == "best":
        return "best"
    if value == "final":
        return "final"
    if value.isdigit():
        return int(value)
    raise ValueError(f"--checkpoint: expected {BEST}, {FINAL} or a step number, got {text!r}")


class WeightsNotReady(ValueError):
    """A run's weights cannot be loaded as asked; the message says what to load instead."""


def run_weights(
    run_dir: str | os.PathLike[str],
    checkpoint: CheckpointChoice = None,
    newest_if_unfinished: bool = False,
) -> Path | None:
    """The one answer to "which weights dir of this run do we load?" (chat, export, playground).

    By default (None or "best") the checkpoint or final/ with the lowest eval loss
    (`best_checkpoint`), else final/; checkpoint-N when N is asked for, final/ for "final"; each
    only when complete (its marker is
    written last, and every file it lists is whole) and inside the run dir. With
    newest_if_unfinished (the playground on a run still training) a run that has no final/ yet
    gives its newest complete checkpoint, or None (the base model) when it has none. Anything
    else raises WeightsNotReady naming the newest complete checkpoint to use instead."""
    paths = RunPaths(Path(run_dir))
    if checkpoint in (None, BEST):
        best = best_checkpoint(paths.root)
        if best is None and checkpoint == BEST:
            raise WeightsNotReady(
                f"{paths.root.name}: no checkpoint has an eval loss (the run had no eval rows); "
                f"use --checkpoint {FINAL} or N"
            )
        checkpoint = checkpoint_step(best) if best is not None else None
    elif checkpoint == FINAL:
        checkpoint = None
    assert not isinstance(checkpoint, str)  # best and final are resolved above
    if checkpoint is not None:
        path, shown = paths.checkpoint(checkpoint), str(IN_RUN.checkpoint(checkpoint))
    else:
        path, shown = paths.final, f"{IN_RUN.final}/"
        if newest_if_unfinished and not path.exists():
            return newest_complete_checkpoint(paths.root, set_aside_incomplete=False)
    if path.is_symlink() and not path.resolve().is_relative_to(paths.root.resolve()):
        raise WeightsNotReady(
            f"{paths.root.name}: {shown} is a symbolic link out of the run directory "
            f"(-> {path.resolve()}); ftui loads only what is inside the run"
        )
    problem = checkpoint_problem(path)
    if problem is None:
        return path
    if problem == "missing" and checkpoint is not None:
        steps = sorted(s for p in list_checkpoints(paths.root) if (s := checkpoint_step(p)))
        there = ", ".join(map(str, steps)) if steps else "none"
        raise WeightsNotReady(
            f"--checkpoint: {checkpoint} not found under {paths.checkpoints} "
            f"(checkpoints there: {there}); leave it out to use {IN_RUN.final}/"
        )
    if problem == "missing":
        why = "does not exist (the run has not completed)"
    elif problem == "no-complete-marker":
        why = f"is incomplete: its save never finished (no {COMPLETE_MARKER} marker)"
    else:
        why = f"is damaged ({problem})"
    newest = newest_complete_checkpoint(paths.root, set_aside_incomplete=False)
    step = checkpoint_step(newest) if newest is not None else None
    instead = (
        f"the newest complete checkpoint is {newest.name}: use --checkpoint {step}"
        if newest is not None and step != checkpoint
        else "the run has no other complete checkpoint"
    )
    raise WeightsNotReady(f"{paths.root.name}: {shown} {why}; {instead}")
