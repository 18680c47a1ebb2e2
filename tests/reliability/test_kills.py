"""Issue 17, items 1, 2, 13: real `ftui run demo --detach` runs (two ranks through torchrun)
whose launcher, supervisor or one rank is killed. Never two trainings in one run directory:
a killed torchrun takes its ranks with it, ranks left running keep a run "not resumable" and
make resume refuse, and a killed rank is named with its signal."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from conftest import _logs, run_ftui

from ftui.core.runs.events import append_event, read_events
from ftui.core.runs.failures import diagnose
from ftui.core.runs.processes import (
    all_processes,
    live_rank_processes,
    process_start_time,
    run_is_live,
)
from ftui.core.runs.rundir import RunPaths, read_json_object, read_run_json
from ftui.core.runs.status import run_status

from .reltools import wait_for_event

pytestmark = pytest.mark.slow


def _start(root: Path) -> Path:
    """A demo run far from its end, with a checkpoint every 10 steps."""
    out = run_ftui(
        "run", "demo", "--detach",
        "--set", f"output.root={root}",
        "--set", "train.max_steps=600",
        "--set", "train.save_steps=10",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    return Path(out.stdout.strip().splitlines()[-1])


def _ranks_training(run: Path) -> list[int]:
    """Both ranks' pids once the first checkpoint is written (so the run is resumable)."""
    wait_for_event(run, lambda e: e.get("type") == "checkpoint", timeout=180)
    ranks = live_rank_processes(run)
    assert len(ranks) == 2, ranks
    return ranks


def _gone(pid: int) -> bool:
    """Exited (a zombie counts: whoever inherited an orphan may not have reaped it yet)."""
    return process_start_time(pid) is None


def _wait(done, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.time() + timeout
    while not done():
        assert time.time() < deadline, "timed out"
        time.sleep(0.2)


@pytest.mark.long
def test_a_killed_torchrun_takes_its_ranks_with_it(tmp_path: Path) -> None:
    run = _start(tmp_path)
    try:
        ranks = _ranks_training(run)
        supervisor = read_run_json(run)["pid"]
        torchrun = next(p.pid for p in all_processes() if p.ppid == supervisor and p.running)
        os.kill(torchrun, signal.SIGKILL)
        _wait(lambda: not run_is_live(run))  # the supervisor ended the ranks, then itself
        assert all(_gone(pid) for pid in ranks), live_rank_processes(run)
        info = run_status(run)
        assert info.status == "failed" and info.leftover_pids == ()
        assert f"torchrun (pid {torchrun}) was killed by SIGKILL" in info.reason, info.reason
        assert info.resumable
    finally:
        run_ftui("stop", str(run), "--kill")


@pytest.mark.long
def test_ranks_left_by_a_killed_supervisor_block_resume(tmp_path: Path) -> None:
    run = _start(tmp_path)
    try:
        ranks = _ranks_training(run)
        for pid in ranks:  # held in place: they must not finish the run meanwhile
            os.kill(pid, signal.SIGSTOP)
        os.kill(read_run_json(run)["pid"], signal.SIGKILL)
        _wait(lambda: not run_is_live(run))
        # A final status written while ranks still run (what a launcher that died wrote before
        # its ranks were ended): the live ranks still count.
        append_event(run, "status", status="failed", reason="training exited with code -9")
        info = run_status(run)
        assert set(ranks) <= set(info.leftover_pids)
        assert not info.resumable and "still run (`ftui stop RUN --kill`" in info.reason
        listed = run_ftui("runs", "--root", str(tmp_path))
        assert "processes still run" in listed.stdout and "resumable" not in listed.stdout
        config = RunPaths(run).config.read_bytes()
        pid_files = [read_json_object(f) for f in RunPaths(run).pid_files()]
        out = run_ftui("resume", str(run))
        assert out.returncode != 0, out.stdout
        assert "still run" in out.stderr and f"ftui stop {run.name} --kill" in out.stderr
        assert all(str(pid) in out.stderr for pid in ranks), out.stderr
        assert RunPaths(run).config.read_bytes() == config
        assert [read_json_object(f) for f in RunPaths(run).pid_files()] == pid_files
        assert run_ftui("stop", str(run), "--kill").returncode == 0
        assert all(_gone(pid) for pid in ranks)
        assert run_status(run).resumable
    finally:
        run_ftui("stop", str(run), "--kill")


def test_a_killed_rank_is_named_with_its_signal(tmp_path: Path) -> None:
    run = _start(tmp_path)
    try:
        _ranks_training(run)
        rank1 = read_json_object(RunPaths(run).pid_file(1))["pid"]
        os.kill(rank1, signal.SIGKILL)
        _wait(lambda: not run_is_live(run))
        info = run_status(run)
        assert info.reason == f"rank 1 (pid {rank1}) was killed by SIGKILL", (
            info.reason,
            _logs(run),
        )
        failure = diagnose(read_events(run), run)
        assert failure is not None and failure.message == info.reason
        assert "Connection reset" not in failure.message and "kill" in failure.hint
    finally:
        run_ftui("stop", str(run), "--kill")
