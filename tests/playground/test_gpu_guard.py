"""The GPU-in-use warning, on hand-written run dirs whose pid is a live process."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from ftui.core.atomic import atomic_write_json
from ftui.core.playground.gpu_guard import gpu_load_warning
from ftui.core.runs.processes import process_start_time
from ftui.core.spec import RunSpec


@pytest.fixture
def sleeper():
    proc = subprocess.Popen(["sleep", "60"], start_new_session=True)
    yield proc
    proc.kill()
    proc.wait()


def make_run(root: Path, name: str, gpus: list[int] | None, pid: int) -> Path:
    run = root / name
    run.mkdir(parents=True)
    RunSpec.model_validate({"name": "x", "launch": {"gpus": gpus}}).save(run / "config.yaml")
    atomic_write_json(run / "run.json", {"pid": pid, "pid_start_time": process_start_time(pid)})
    return run


def test_warns_only_for_a_live_run_on_the_same_gpu(
    tmp_path: Path, sleeper: subprocess.Popen, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    mine = make_run(tmp_path, "mine", [0], sleeper.pid)
    assert "GPU 0 is in use by a live training run (mine)" in (
        gpu_load_warning(mine, "cuda", roots=[tmp_path]) or ""
    )
    assert gpu_load_warning(mine, "cpu", roots=[tmp_path]) is None
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1")
    assert gpu_load_warning(mine, "cuda", roots=[tmp_path]) is None  # the run is on GPU 0
    make_run(tmp_path, "all-gpus", None, sleeper.pid)
    assert "(all-gpus)" in (gpu_load_warning(mine, "cuda", roots=[tmp_path]) or "")


def test_a_finished_run_is_no_reason_to_warn(tmp_path: Path) -> None:
    proc = subprocess.Popen(["true"])
    proc.wait()
    run = make_run(tmp_path, "done", [0], proc.pid)
    assert gpu_load_warning(run, "cuda", roots=[tmp_path]) is None
    assert os.getpid() != proc.pid
