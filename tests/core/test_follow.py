"""One headless follower (ftui.core.runs.follow): `ftui run` and `ftui monitor --plain` print the
same lines for the same run, from real runs of the demo and real signals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import run_ftui
from fake_runs import make_run

from ftui.core.runs.follow import PlainFollower
from ftui.core.runs.processes import process_start_time, run_is_live
from ftui.core.runs.rundir import RunPaths

SHORT = ["--set", "launch.nproc_per_node=1", "--set", "train.logging_steps=2"]


def _run_dir(stdout: str) -> Path:
    return Path(stdout.splitlines()[0].removeprefix("run dir: "))


def _monitor_lines(run_dir: Path) -> list[str]:
    replay = run_ftui("monitor", str(run_dir), "--plain")
    assert replay.returncode in (0, 1), replay.stderr
    return replay.stdout.splitlines()


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(["sleep", "120"], start_new_session=True)
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.wait()


@pytest.mark.slow
def test_run_and_monitor_print_the_same_lines(tmp_path: Path, demo_model: Path) -> None:
    live = run_ftui(
        "run", "demo", "--set", f"output.root={tmp_path}", "--set", "train.max_steps=10", *SHORT
    )
    assert live.returncode == 0, live.stderr
    run_dir = _run_dir(live.stdout)
    lines = live.stdout.splitlines()
    assert _monitor_lines(run_dir) == lines
    assert lines[0] == lines[-1] == f"run dir: {run_dir}"
    assert any(line.startswith("plan 10 steps · 100 rows · world size 1") for line in lines)
    assert any(line.startswith("step 10/10 · epoch") and "eta 0:00" in line for line in lines)
    assert f"final weights · {RunPaths(run_dir).final}" in lines
    assert lines[-2].startswith("run completed after ")
    # The eval split's line is said once: by the run's plan, not again by the preflight before it.
    said = (live.stderr + live.stdout).splitlines()
    assert sum("eval split off" in line for line in said) == 1, said


@pytest.mark.slow
@pytest.mark.long
def test_ctrl_c_in_ftui_run_stops_the_run_and_both_print_it(
    tmp_path: Path, demo_model: Path
) -> None:
    out_path, err_path = tmp_path / "out.txt", tmp_path / "err.txt"
    argv = [sys.executable, "-m", "ftui", "run", "demo", "--set", f"output.root={tmp_path}"]
    with open(out_path, "w") as out, open(err_path, "w") as err:
        ftui = subprocess.Popen(
            [*argv, "--set", "train.max_steps=100000", *SHORT],
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 240
        while "\nstep " not in out_path.read_text():
            assert time.monotonic() < deadline and ftui.poll() is None, err_path.read_text()
            time.sleep(0.1)
        run_dir = _run_dir(out_path.read_text())
        os.kill(ftui.pid, signal.SIGINT)  # Ctrl-C, to the command only: the run is detached
        assert ftui.wait(timeout=120) == 1  # stopped is not completed
    finally:
        if ftui.poll() is None:
            ftui.kill()
            ftui.wait()
    assert "stopping: every rank saves a checkpoint" in err_path.read_text()
    assert "Traceback" not in err_path.read_text()
    assert not run_is_live(run_dir)
    lines = out_path.read_text().splitlines()
    assert _monitor_lines(run_dir) == lines
    assert "status stopping" in " ".join(lines) and any(
        line.startswith("run stopped after ") for line in lines
    )
    assert f"resume with: ftui resume {run_dir}" in lines


def test_monitor_plain_ctrl_c_leaves_the_run_alone(tmp_path: Path, sleeper) -> None:
    run = make_run(
        tmp_path,
        final=None,
        steps=5,
        pid=sleeper.pid,
        pid_start_time=process_start_time(sleeper.pid),
    )
    out_path, err_path = tmp_path / "out.txt", tmp_path / "err.txt"
    with open(out_path, "w") as out, open(err_path, "w") as err:
        watcher = subprocess.Popen(
            [sys.executable, "-m", "ftui", "monitor", str(run), "--plain"],
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 30
        while "step 5/40" not in out_path.read_text():
            assert time.monotonic() < deadline and watcher.poll() is None, err_path.read_text()
            time.sleep(0.05)
        watcher.send_signal(signal.SIGINT)
        assert watcher.wait(timeout=30) == 130
    finally:
        if watcher.poll() is None:
            watcher.kill()
            watcher.wait()
    err = err_path.read_text()
    assert "Traceback" not in err and "stopped watching" in err, err
    assert sleeper.poll() is None and not RunPaths(run).stop_file.exists()


def test_a_run_whose_processes_outlive_its_final_status_is_not_followed_forever(
    tmp_path: Path, sleeper
) -> None:
    run = make_run(
        tmp_path,
        steps=10,
        total_steps=10,
        final="completed",
        pid=sleeper.pid,
        pid_start_time=process_start_time(sleeper.pid),
    )
    follower = PlainFollower(run, exit_grace_s=0.3)
    lines: list[str] = []
    deadline = time.monotonic() + 10
    while (update := follower.poll()).exit_code is None:
        lines += update.lines
        assert time.monotonic() < deadline, lines
        time.sleep(0.05)
    lines += update.lines
    assert update.exit_code == 0 and "status completed" in lines
    assert lines[-3].startswith("run completed")
    assert lines[-2].startswith("its processes still run") and "--kill" in lines[-2]
    assert sleeper.poll() is None  # following never signals anything


def test_a_replayed_failure_says_why_and_how_to_fix_it(tmp_path: Path) -> None:
    run = make_run(
        tmp_path,
        steps=5,
        final="failed",
        reason="CUDA out of memory",
        checkpoints=(5,),
        extra_events=[{"t": 1.0, "type": "error", "kind": "oom", "message": "CUDA out of memory"}],
    )
    update = PlainFollower(run).poll()
    assert update.exit_code == 1 and update.alert is None  # never seen live: no notification
    assert "error oom: CUDA out of memory" in update.lines
    assert "run failed after 0:08: CUDA out of memory" in update.lines  # starting → failed
    assert any(
        line.startswith("fix: ") and "per_device_batch_size" in line for line in update.lines
    )
    assert f"resume with: ftui resume {run}" in update.lines
