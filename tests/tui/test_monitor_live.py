"""The monitor watching real 2-process torchrun demo runs (CPU, gloo). No mocks.

One run is stopped from the monitor and resumed from it; one is watched from start to finish.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ftui.core.runs.checkpoints import checkpoint_problem, list_checkpoints
from ftui.core.runs.events import read_events
from ftui.core.runs.processes import leftover_processes
from ftui.core.runs.status import run_status
from ftui.tui.monitor_app import MonitorApp
from ftui.tui.screens.monitor import MonitorScreen
from ftui.tui.widgets.monitor.charts import LossChart

from .test_monitor import SIZE, fixed_sample, poll_until

pytestmark = pytest.mark.slow


def _launch(root: Path, *overrides: str) -> Path:
    from ftui.core.launch.spawn import launch
    from ftui.core.presets import resolve_spec

    spec = resolve_spec("demo", [f"output.root={root}", *overrides])
    return launch(spec)


@pytest.mark.long
async def test_monitor_follows_a_real_run_to_completed(tmp_path: Path, demo_model) -> None:
    run = _launch(tmp_path)
    app = MonitorApp(run, gpu_sampler=fixed_sample)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, MonitorScreen)
        await poll_until(pilot, lambda: screen.info is not None and screen.info.live, 60)
        await poll_until(pilot, lambda: screen.info.status == "completed", 240)
        assert len(screen.history.loss.xs) >= 10
        assert screen.query_one(LossChart).plotted_points >= 10
        total = screen.history.plan["total_steps"]
        assert f"step {total}/{total}" in str(screen.query_one("#progress-text").render())


@pytest.mark.long
async def test_quit_reopen_stop_and_resume_a_real_run(tmp_path: Path, demo_model) -> None:
    # Long enough to catch mid-run; no periodic save, so the stop's save is the only checkpoint.
    run = _launch(tmp_path, "train.epochs=60", "train.save_steps=100000")
    first = MonitorApp(run, gpu_sampler=fixed_sample)
    async with first.run_test(size=SIZE) as pilot:
        screen = first.screen
        await poll_until(
            pilot, lambda: screen.info is not None and len(screen.history.loss.xs) >= 2, 120
        )
        steps_seen = len(screen.history.loss.xs)
        await pilot.press("q")
    assert run_status(run).live, "quitting the monitor must not stop training"

    second = MonitorApp(run, gpu_sampler=fixed_sample)
    async with second.run_test(size=SIZE) as pilot:
        screen = second.screen
        await poll_until(pilot, lambda: screen.info is not None)
        assert screen.info.live and screen.info.status == "running"
        assert len(screen.history.loss.xs) >= steps_seen  # the whole history, then live

        await pilot.press("s")  # every rank saves at the same step, then stops
        await poll_until(
            pilot, lambda: screen.info.status == "stopped" and not screen.info.live, 120
        )
        stopped = [
            e for e in read_events(run) if e["type"] == "status" and e["status"] == "stopped"
        ]
        ckpts = list_checkpoints(run)
        assert len(ckpts) == 1 and checkpoint_problem(ckpts[0]) is None
        assert ckpts[0].name == f"checkpoint-{stopped[-1]['step']}"
        assert screen.info.resumable

        await pilot.press("r")
        await poll_until(pilot, lambda: screen.info.live, 60)
        await poll_until(pilot, lambda: screen.info.status == "completed", 400)

    # It continues from the next step, not from the start: the first step logged after the
    # resume is the first logging step past the checkpoint.
    resumed_from = stopped[-1]["step"]
    events = read_events(run)
    resumed_at = next(i for i, e in enumerate(events) if e["type"] == "resumed")
    steps_after = [e["step"] for e in events[resumed_at:] if e["type"] == "metrics"]
    assert resumed_from < steps_after[0] <= resumed_from + 5  # demo logging_steps: 5
    assert events[-1]["type"] == "status" and events[-1]["status"] == "completed"


async def test_killing_the_launcher_shows_failed_not_running(tmp_path: Path, demo_model) -> None:
    import json
    import os
    import signal

    run = _launch(tmp_path, "train.epochs=60", "train.save_steps=100000")
    leader = json.loads((run / "run.json").read_text())["pid"]
    app = MonitorApp(run, gpu_sampler=fixed_sample)
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen = app.screen
            await poll_until(pilot, lambda: screen.info is not None and screen.info.live, 60)
            # the ranks have started (their pid files): they are what the kill leaves behind
            await poll_until(pilot, lambda: len(list((run / "pids").glob("rank*.json"))) == 2, 90)
            os.kill(
                leader, signal.SIGKILL
            )  # the supervisor whose pid and start time run.json holds
            await poll_until(pilot, lambda: screen.info.status == "failed", 30)
            assert not screen.info.live
            assert "exited without a final status" in screen.info.reason
            # torchrun and the ranks were left behind in the run's group: s, s ends them
            assert screen.info.leftover_pids and "still run" in screen.info.reason
            await pilot.press("s")
            await pilot.press("s")
            await poll_until(pilot, lambda: not screen.info.leftover_pids, 30)
        assert leftover_processes(run) == []
    finally:
        try:
            os.killpg(leader, signal.SIGKILL)  # torchrun and the ranks, orphaned in its group
        except ProcessLookupError:
            pass
