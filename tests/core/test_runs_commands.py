"""`ftui runs`, `ftui monitor --plain`, `ftui stop` on hand-written run directories."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import run_ftui
from fake_runs import T0, make_run


def test_runs_lists_status_and_json(tmp_path: Path) -> None:
    make_run(tmp_path, "demo-20261124-080000", t0=T0)
    make_run(
        tmp_path, "demo-20261124-090000", t0=T0 + 60, final="stopped", steps=20, checkpoints=(20,)
    )
    out = run_ftui("runs", "--root", str(tmp_path))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("demo-20261124-090000") and "stopped, resumable" in lines[0]
    assert "completed" in lines[1]
    as_json = run_ftui("runs", "--root", str(tmp_path), "--json")
    rows = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert [r["status"] for r in rows] == ["stopped", "completed"] and rows[0]["resumable"]


def test_monitor_plain_prints_history_and_exit_code(tmp_path: Path) -> None:
    make_run(tmp_path, "ok-20261124-080000", steps=10, total_steps=10)
    done = run_ftui("monitor", "ok", "--root", str(tmp_path), "--plain")
    assert done.returncode == 0, done.stderr
    assert "step 10/10" in done.stdout and "run completed" in done.stdout

    make_run(
        tmp_path,
        "bad-20261124-080000",
        steps=5,
        final="failed",
        extra_events=[
            {"t": T0 + 9, "type": "error", "kind": "oom", "message": "CUDA out of memory"}
        ],
    )
    failed = run_ftui("monitor", "bad", "--root", str(tmp_path), "--plain")
    assert failed.returncode == 1
    assert "CUDA out of memory" in failed.stdout and "per_device_batch_size" in failed.stdout


def test_unknown_or_ambiguous_run_lists_candidates(tmp_path: Path) -> None:
    make_run(tmp_path, "demo-20261124-080000")
    make_run(tmp_path, "demo-20261124-090000")
    out = run_ftui("monitor", "demo", "--root", str(tmp_path), "--plain")
    assert out.returncode == 2
    assert "demo-20261124-080000" in out.stderr and "demo-20261124-090000" in out.stderr
    assert "Traceback" not in out.stderr


def test_stop_a_run_that_is_not_running(tmp_path: Path) -> None:
    make_run(tmp_path, "demo-20261124-080000")
    out = run_ftui("stop", "demo", "--root", str(tmp_path))
    assert out.returncode == 1 and "not running" in out.stderr
    assert not (tmp_path / "demo-20261124-080000" / "STOP").exists()


def test_monitor_plain_follows_a_live_run_until_it_ends(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys
    import time

    from fake_runs import append_events

    from ftui.core.runs.processes import process_start_time

    sleeper = subprocess.Popen(["sleep", "120"], start_new_session=True)
    try:
        run = make_run(
            tmp_path,
            "live-20261124-080000",
            steps=5,
            total_steps=8,
            final=None,
            pid=sleeper.pid,
            pid_start_time=process_start_time(sleeper.pid),
        )
        out_path = tmp_path / "out.txt"
        with open(out_path, "w") as out:
            follower = subprocess.Popen(
                [sys.executable, "-m", "ftui", "monitor", str(run), "--plain"],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=os.environ,
            )
        deadline = time.monotonic() + 30
        while "step 5/8" not in out_path.read_text():
            assert time.monotonic() < deadline and follower.poll() is None, out_path.read_text()
            time.sleep(0.1)
        append_events(
            run,
            {"t": T0 + 30, "type": "metrics", "step": 8, "loss": "nan"},
            {"t": T0 + 31, "type": "status", "status": "completed", "step": 8},
        )
        sleeper.kill()
        sleeper.wait()
        assert follower.wait(timeout=30) == 0
        text = out_path.read_text()
        assert "step 8/8 · loss nan" in text and "run completed" in text
    finally:
        if sleeper.poll() is None:
            sleeper.kill()
            sleeper.wait()
