"""Item 4: resume refuses when something that matters changed (model, data fingerprint, LoRA
shape, effective batch, seed) and says what changed; it only warns for logging, eval and save
cadence. The key is recorded in run.json at launch and compared before anything is spawned."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import run_ftui

from ftui.core.launch.spawn import LaunchError, kill_run, resume
from ftui.core.runs.processes import lock_run, run_is_live
from ftui.core.runs.rundir import read_run_json

from .reltools import copy_run

REFUSED = {
    "model": (["model.name_or_path=/elsewhere/other-model"], "base model changed"),
    "lora-shape": (["method.lora.r=4"], "LoRA shape changed (r: 16 -> 4)"),
    "lora-targets": (["method.lora.target_modules=[q_proj]"], "LoRA shape changed"),
    "batch": (["train.per_device_batch_size=2"], "effective batch"),
    "accumulation": (["train.gradient_accumulation_steps=3"], "effective batch"),
    "processes": (["launch.nproc_per_node=2"], "effective batch"),
    "seed": (["train.seed=7"], "train.seed changed: 42 -> 7"),
    "data-slice": (["data.split=train[:50]"], "the data"),
}


def _untouched(run: Path):  # type: ignore[no-untyped-def]
    info = read_run_json(run)
    return (info.get("pid"), len(info.get("attempts", [])), (run / "config.yaml").read_bytes())


def test_launch_records_the_resume_key(killed_run: Path) -> None:
    key = read_run_json(killed_run)["resume_key"]
    assert key["seed"] == 42 and key["effective_batch"] == 5
    assert key["lora_shape"]["r"] == 16 and key["data_fingerprint"]


@pytest.mark.parametrize("case", list(REFUSED))
def test_resume_refuses_a_change_that_matters(case: str, killed_run: Path, tmp_path: Path) -> None:
    run = copy_run(killed_run, tmp_path / "run")
    before = _untouched(run)
    overrides, expected = REFUSED[case]
    with pytest.raises(LaunchError) as err:
        resume(run, overrides=overrides)
    assert expected in str(err.value), str(err.value)
    assert _untouched(run) == before  # nothing spawned, config.yaml unchanged
    assert not run_is_live(run)


def test_resume_refuses_when_the_local_data_file_was_edited(
    killed_run: Path, local_data: Path, tmp_path: Path
) -> None:
    run = copy_run(killed_run, tmp_path / "run")
    original = local_data.read_bytes()
    # Same size, same second: only the content says it changed.
    edited = original.replace(b"Paris", b"Parus", 1)
    assert edited != original and len(edited) == len(original)
    try:
        local_data.write_bytes(edited)
        with pytest.raises(LaunchError, match="the data .*changed"):
            resume(run)
    finally:
        local_data.write_bytes(original)


def test_resume_cli_says_what_changed_without_a_traceback(killed_run: Path, tmp_path: Path) -> None:
    run = copy_run(killed_run, tmp_path / "run")
    out = run_ftui("resume", str(run), "--set", "train.seed=7", "--set", "method.lora.r=4")
    assert out.returncode != 0
    assert "train.seed changed: 42 -> 7" in out.stderr and "r: 16 -> 4" in out.stderr
    assert "Traceback" not in out.stderr + out.stdout


def test_resume_only_warns_for_cadence(killed_run: Path, tmp_path: Path) -> None:
    run = copy_run(killed_run, tmp_path / "run")
    warnings: list[str] = []
    resume(
        run,
        overrides=["train.logging_steps=2", "train.save_steps=3", "train.save_total_limit=1"],
        on_warning=warnings.append,
    )
    try:
        assert run_is_live(run)
    finally:
        kill_run(run, grace_s=5)
    text = "\n".join(warnings)
    for key in ("train.logging_steps", "train.save_steps", "train.save_total_limit"):
        assert key in text, text
    assert "logging_steps: 2" in (run / "config.yaml").read_text()  # the new cadence is kept


def _markers(run: Path) -> list[Path]:
    return sorted(run.glob("checkpoints/checkpoint-*/COMPLETE"))


def test_each_checkpoint_keeps_the_launch_fingerprint(killed_run: Path) -> None:
    key = read_run_json(killed_run)["resume_key"]
    markers = _markers(killed_run)
    assert markers
    for marker in markers:
        assert json.loads(marker.read_text())["resume_key"] == key


def test_a_deleted_run_json_does_not_disarm_the_guard(killed_run: Path, tmp_path: Path) -> None:
    run = copy_run(killed_run, tmp_path / "run")
    (run / "run.json").unlink()
    config = (run / "config.yaml").read_bytes()
    with pytest.raises(LaunchError) as err:
        resume(run, overrides=["train.seed=7", "method.lora.r=4"])
    assert "train.seed changed: 42 -> 7" in str(err.value)
    assert "LoRA shape changed (r: 16 -> 4)" in str(err.value)
    assert (run / "config.yaml").read_bytes() == config  # a refused resume rewrites nothing
    assert not (run / "run.json").exists() and not run_is_live(run)


def test_no_fingerprint_left_anywhere_refuses(killed_run: Path, tmp_path: Path) -> None:
    run = copy_run(killed_run, tmp_path / "run")
    (run / "run.json").unlink()
    for marker in _markers(run):
        data = json.loads(marker.read_text())
        del data["resume_key"]
        marker.write_text(json.dumps(data))
    config = (run / "config.yaml").read_bytes()
    with pytest.raises(LaunchError, match="launch fingerprint is gone"):
        resume(run, overrides=["train.seed=7"])
    assert (run / "config.yaml").read_bytes() == config and not run_is_live(run)


def test_resume_is_refused_while_another_holds_the_run_lock(
    killed_run: Path, tmp_path: Path
) -> None:
    """The lock a live supervisor holds (here: this test, as a launch under way would)."""
    run = copy_run(killed_run, tmp_path / "run")
    before = _untouched(run)
    lock = lock_run(run)
    assert lock is not None
    try:
        with pytest.raises(LaunchError, match="its supervisor still runs .*run.lock"):
            resume(run)
    finally:
        os.close(lock)
    assert _untouched(run) == before and not run_is_live(run)
