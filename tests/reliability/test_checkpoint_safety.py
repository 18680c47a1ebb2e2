"""Item 3: a checkpoint cut short is detected, set aside under a name that says so, and resume
uses the newest complete one; rotation never deletes the last good checkpoint; after a
non-finite loss the last finite checkpoint is kept and the run fails naming the step."""

from __future__ import annotations

import math
import re
import shutil
import time
from pathlib import Path

import pytest
from conftest import wait_for_status

from ftui.core.launch.spawn import launch, resume
from ftui.core.runs.checkpoints import (
    checkpoint_problem,
    list_checkpoints,
    newest_complete_checkpoint,
)
from ftui.core.runs.events import read_events
from ftui.train.callbacks import rotate_checkpoints

from .reltools import copy_run, demo_spec, wait_for_status_after


def _complete(run_dir: Path) -> list[Path]:
    return [p for p in list_checkpoints(run_dir) if checkpoint_problem(p) is None]


def _truncate(path: Path, keep: float = 0.5) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def _partial_dir(ckpt: Path) -> None:  # the process died mid-save: some files, no marker
    (ckpt / "COMPLETE").unlink()
    (ckpt / "optimizer.pt").unlink()


def _truncated_json(ckpt: Path) -> None:
    _truncate(ckpt / "trainer_state.json")


def _zero_byte_weights(ckpt: Path) -> None:
    (ckpt / "adapter_model.safetensors").write_bytes(b"")


def _disk_full_during_save(ckpt: Path) -> None:  # ENOSPC: the write stopped part way
    _truncate(ckpt / "optimizer.pt", 0.3)


def _no_marker(ckpt: Path) -> None:
    (ckpt / "COMPLETE").unlink()


def _remark(ckpt: Path) -> None:
    """The damage happened before the marker was written (a short write the saver missed)."""
    from ftui.train.callbacks import mark_complete

    mark_complete(ckpt, int(ckpt.name.split("-")[1]))


# kind: (damage, damaged before the COMPLETE marker was written, expected slug)
DAMAGE = {
    "partial-dir": (_partial_dir, False, "no-complete-marker"),
    "truncated-json": (_truncated_json, True, "truncated-json"),
    "zero-byte-weights": (_zero_byte_weights, True, "empty-weights"),
    "disk-full-before-marker": (_disk_full_during_save, True, "truncated-torch-file"),
    "disk-full-after-marker": (_disk_full_during_save, False, "file-size-changed"),
    "no-marker": (_no_marker, False, "no-complete-marker"),
}


@pytest.mark.parametrize("kind", list(DAMAGE))
def test_cut_short_checkpoint_is_detected_and_set_aside(
    kind: str, killed_run: Path, tmp_path: Path
) -> None:
    good = _complete(killed_run)
    assert len(good) >= 2, list_checkpoints(killed_run)
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    older = shutil.copytree(good[1], folder / good[1].name)
    newer = shutil.copytree(good[0], folder / good[0].name)
    damage, before_marker, slug = DAMAGE[kind]
    damage(newer)
    if before_marker:
        _remark(newer)
    assert checkpoint_problem(newer) == slug
    assert newest_complete_checkpoint(tmp_path) == older
    assert not newer.exists()
    aside = folder / f"{newer.name}.incomplete-{slug}"
    assert aside.is_dir(), sorted(p.name for p in folder.iterdir())  # set aside, never deleted


def test_resume_uses_the_newest_complete_checkpoint(killed_run: Path, tmp_path: Path) -> None:
    run = copy_run(killed_run, tmp_path / "run")
    good = _complete(run)
    _truncated_json(good[0])  # the newest checkpoint was cut short before it was marked
    _remark(good[0])
    started = time.time()
    warnings: list[str] = []
    resume(run, overrides=["train.max_steps=20"], on_warning=warnings.append)
    assert any("train.max_steps" in w for w in warnings), warnings
    status = wait_for_status_after(run, started)
    assert status["status"] == "completed", status
    resumed = [e for e in read_events(run) if e["type"] == "resumed"]
    assert resumed and Path(resumed[-1]["checkpoint"]).name == good[1].name
    assert (run / "checkpoints" / f"{good[0].name}.incomplete-truncated-json").is_dir()
    first_step = min(
        e["step"] for e in read_events(run) if e["type"] == "metrics" and e["t"] > resumed[-1]["t"]
    )
    assert first_step > int(good[1].name.split("-")[1])  # continued, did not start over


def test_rotation_never_deletes_the_last_good_checkpoint(killed_run: Path, tmp_path: Path) -> None:
    good = _complete(killed_run)
    src = good[0]
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    for step in (5, 10, 15, 20):
        shutil.copytree(src, folder / f"checkpoint-{step}")
    _disk_full_during_save(folder / "checkpoint-15")  # marked complete, then cut short
    _no_marker(folder / "checkpoint-20")  # being written right now
    rotate_checkpoints(folder, 1)
    left = sorted(p.name for p in folder.iterdir())
    assert "checkpoint-10" in left, left  # the newest good one survives
    assert "checkpoint-5" not in left, left  # older good ones rotate out
    assert {"checkpoint-15", "checkpoint-20"} <= set(left)  # incomplete ones are never deleted


def _finite_weights(ckpt: Path) -> bool:
    from safetensors.torch import load_file

    tensors = load_file(str(ckpt / "adapter_model.safetensors"))
    return all(bool(t.isfinite().all()) for t in tensors.values())


def test_nonfinite_loss_keeps_the_last_finite_checkpoint(tmp_path: Path, demo_model: Path) -> None:
    # A huge decoupled weight decay flips and grows the weights ~100x a step: the loss is finite
    # for a few steps, then the weights overflow to inf/NaN. No fault is injected.
    spec = demo_spec(
        tmp_path,
        "train.learning_rate=0.01",
        "train.weight_decay=10000",
        "train.lr_scheduler=constant",
        "train.warmup_steps=0",
        "train.max_steps=40",
        "train.save_steps=2",
        "train.logging_steps=1",
        "launch.nproc_per_node=1",
    )
    run = launch(spec)
    status = wait_for_status(run, timeout=180)
    assert status["status"] == "failed", status
    match = re.search(r"non-finite loss at step (\d+)", status.get("reason", ""))
    assert match, status
    bad_step = int(match.group(1))
    losses = {e["step"]: e["loss"] for e in read_events(run) if e["type"] == "metrics"}
    assert any(not math.isfinite(float(v)) for v in losses.values()) or bad_step > max(losses)
    kept = list_checkpoints(run)
    assert kept, "the last finite checkpoint must be kept"
    for ckpt in kept:
        step = int(ckpt.name.split("-")[1])
        assert step < bad_step, (ckpt, bad_step)
        assert checkpoint_problem(ckpt) is None
        assert _finite_weights(ckpt), f"{ckpt.name} holds NaN/inf weights"


def test_a_real_full_disk_during_a_save(tmp_path: Path, demo_model: Path) -> None:
    """A 3 MiB tmpfs holds the first checkpoint (~1.8 MB) but not the second: the save fails part
    way, the run fails as a full disk, and the cut-short checkpoint is set aside."""
    import subprocess

    from ftui.core.runs.events import last_status

    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)],
        capture_output=True,
        stdin=subprocess.DEVNULL,
    )
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (not root); the truncation cases above cover it")
    try:
        # launch() itself does not run preflight: the disk check lives there (test_disk_space).
        spec = demo_spec(
            mount, "train.max_steps=20", "train.save_steps=5", "launch.nproc_per_node=1"
        )
        run = launch(spec)
        status = wait_for_status(run, timeout=180)
        assert status["status"] == "failed", status
        errors = [e for e in read_events(run) if e["type"] == "error"]
        assert errors and errors[-1]["kind"] == "disk_full", errors
        assert "No space left on device" in status["reason"], status
        partial = [p for p in list_checkpoints(run) if checkpoint_problem(p) is not None]
        assert partial, list_checkpoints(run)
        good = newest_complete_checkpoint(run)
        assert good is not None and checkpoint_problem(good) is None
        for cut in partial:
            assert not cut.exists()
            assert list(cut.parent.glob(f"{cut.name}.incomplete-*")), sorted(
                p.name for p in cut.parent.iterdir()
            )
        assert last_status(read_events(run))["status"] == "failed"
    finally:
        done = subprocess.run(["umount", str(mount)], capture_output=True)
        if done.returncode != 0:
            subprocess.run(["umount", "-l", str(mount)], capture_output=True)
