"""Issue 19: the run queue through the detached runner, with real demo runs. A sweep of two
short trials with a failing run queued between them: the runner goes on after the failure,
the trials are ranked by their eval loss, and `ftui runs` lists the runs and the queue."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import run_ftui

from ftui.core.launch import queue, queue_runner, sweep
from ftui.core.runs.events import read_events
from ftui.core.runs.processes import wait_until

pytestmark = pytest.mark.slow

ONE_RANK = ("--set", "launch.nproc_per_node=1", "--set", "train.logging_steps=1")
# the recipe of test_checkpoint_safety: a huge weight decay overflows the weights in a few steps
NONFINITE = ("train.learning_rate=0.01", "train.weight_decay=10000", "train.lr_scheduler=constant")


def _ftui(*args: str, cwd: Path) -> str:
    out = run_ftui(*args, cwd=cwd)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


@pytest.mark.long
def test_a_sweep_and_a_failing_run_through_the_detached_runner(
    tmp_path: Path, own_home: Path
) -> None:
    root = tmp_path / "runs"
    sets = ("--set", f"output.root={root}", *ONE_RANK)
    out = _ftui(
        "sweep", "demo", *sets, "--set", "train.learning_rate=0.005,0.0001", "--max-steps", "3",
        cwd=tmp_path,
    )  # fmt: skip
    assert "2 trials" in out
    bad = [x for s in NONFINITE for x in ("--set", s)]
    _ftui("queue", "add", "demo", *sets, *bad, "--set", "train.max_steps=40", cwd=tmp_path)

    # the failing run is queued last; move the second trial behind it
    def reorder(items: list[queue.QueueEntry]) -> None:
        items.append(items.pop(1))

    queue.change(reorder)
    assert [e.label.split()[-1] for e in queue.entries()][0] == "learning_rate=0.005"

    started = _ftui("queue", "run", "--detach", cwd=tmp_path)
    assert "queue runner started" in started
    assert wait_until(lambda: queue_runner.live_runner() is not None, 30, 0.1)
    assert wait_until(lambda: queue_runner.live_runner() is None, 400, 0.5), (
        queue_runner.runner_log().read_text()
    )
    items = queue.entries()
    assert [e.state for e in items] == ["completed", "failed", "completed"], [
        (e.state, e.reason) for e in items
    ]
    assert "non-finite loss" in items[1].reason
    for entry in items:
        run_dir = Path(str(entry.run_dir))
        assert run_dir.parent == root
        evals = [e["eval_loss"] for e in read_events(run_dir) if e["type"] == "eval"]
        if entry.sweep:
            assert evals and entry.eval_loss == evals[-1]  # one eval, at the last step
    ranked = sweep.ranked(str(items[0].sweep))
    assert [e.eval_loss for e in ranked] == sorted(e.eval_loss for e in ranked)  # type: ignore[type-var]
    results = _ftui("sweep", "--results", cwd=tmp_path)
    lines = [line for line in results.splitlines() if line.lstrip()[:2] in ("1.", "2.")]
    assert [line.split("  ")[-1] for line in lines] == [str(e.run_dir) for e in ranked]
    listed = _ftui("queue", "list", cwd=tmp_path)
    assert "rank 1/2" in listed and "rank 2/2" in listed and "no runner" in listed
    runs = _ftui("runs", cwd=tmp_path)
    for entry in items:
        assert Path(str(entry.run_dir)).name in runs
    assert "queue: 0 pending; no runner" in runs
    log = queue_runner.runner_log().read_text()
    assert log.count("running in") == 3 and "queue empty: 3 run(s) done" in log


def test_a_second_runner_is_refused(tmp_path: Path, own_home: Path) -> None:
    lock = queue_runner._hold_lock()
    try:
        assert queue_runner.live_runner() == os.getpid()
        out = run_ftui("queue", "run")
        assert out.returncode == 2 and "already has a runner" in out.stderr
    finally:
        lock.close()
        queue_runner.runner_file().unlink()
