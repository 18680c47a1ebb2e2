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
