"""Item 2: two runs launched at the same moment both complete; a second launch into a live run's
directory is refused; a run directory is never overwritten, except by resuming it."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from pathlib import Path

import pytest
from conftest import wait_for_status

from ftui.core.launch.spawn import LaunchError, launch, new_run_dir
from ftui.core.runs.processes import run_is_live
from ftui.core.runs.rundir import read_run_json

from .reltools import demo_spec, wait_for_event


def _digest(run: Path) -> dict[str, str]:
    return {
        str(p.relative_to(run)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(run.rglob("*"))
        if p.is_file()
    }


@pytest.mark.long
def test_two_runs_launched_together_both_complete(tmp_path: Path, demo_model: Path) -> None:
    # Same name, same second, same data: they race for the run dir name, torchrun's port and
    # the tokenised-data cache (a fresh seed makes a fresh cache key that both build at once).
    seed = int(time.time() * 1000) % 1_000_000_000
    spec = demo_spec(tmp_path, "train.max_steps=15", "train.save_steps=10", f"train.seed={seed}")
    barrier = threading.Barrier(2)
    dirs: list[Path] = []
    errors: list[BaseException] = []

    def go() -> None:
        barrier.wait()
        try:
            dirs.append(launch(spec))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=go) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(set(dirs)) == 2, dirs
    first = dirs[0]
    # While the first is live, a second launch into its directory is refused, untouched.
    wait_for_event(
        first, lambda e: e.get("type") in ("plan", "status") and e.get("status") != "starting"
    )
    live = run_is_live(first)
    before = read_run_json(first)
    with pytest.raises(LaunchError, match="live run" if live else "only `ftui resume`"):
        launch(spec, run_dir=first)
    assert read_run_json(first)["pid"] == before["pid"]
    for run in dirs:
        status = wait_for_status(run, timeout=240)
        assert status["status"] == "completed", (run, status)
        assert (run / "final" / "adapter_model.safetensors").is_file()


def test_launch_into_a_used_run_dir_is_refused(demo_run: Path, tmp_path: Path) -> None:
    deadline = time.time() + 30  # the supervisor outlives rank 0's final status by a moment
    while run_is_live(demo_run) and time.time() < deadline:
        time.sleep(0.1)
    before = _digest(demo_run)
    spec = demo_spec(tmp_path)
    with pytest.raises(LaunchError, match="only `ftui resume` reuses"):
        launch(spec, run_dir=demo_run)
    assert _digest(demo_run) == before  # not a byte changed


def test_a_new_run_never_takes_an_existing_directory(tmp_path: Path) -> None:
    spec = demo_spec(tmp_path)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    planted = tmp_path / f"{spec.name}-{stamp}"
    planted.mkdir()
    (planted / "config.yaml").write_text("keep me\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.symlink(elsewhere, tmp_path / f"{spec.name}-{stamp}-2")
    made = {new_run_dir(spec) for _ in range(3)}
    assert len(made) == 3
    assert all(p.parent == tmp_path.resolve() and not p.is_symlink() for p in made)
    assert (planted / "config.yaml").read_text() == "keep me\n"
    assert list(elsewhere.iterdir()) == []
    for p in made:
        assert oct(p.stat().st_mode & 0o777) == "0o700"
