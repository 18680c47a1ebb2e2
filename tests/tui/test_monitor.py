"""The monitor under Pilot, on hand-written run directories (no launcher, no torch)."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fake_runs import T0, append_events, make_run  # noqa: E402

from ftui.core.runs.processes import process_start_time  # noqa: E402
from ftui.tui.monitor_app import MonitorApp, RunsApp  # noqa: E402
from ftui.tui.screens.monitor import MonitorScreen  # noqa: E402
from ftui.tui.widgets.monitor.charts import LossChart, MetricChart  # noqa: E402
from ftui.tui.widgets.monitor.run_actions import RunActions  # noqa: E402
from ftui.tui.widgets.wizard.gpu_panel import HostSample  # noqa: E402

SIZE = (120, 36)


class FakeGpu:
    index, name = 0, "NVIDIA H100 80GB HBM3"
    memory_used, memory_total = 41 * 1024**3, 80 * 1024**3
    utilization, temperature, power_w = 87.0, 64.0, 412.0


def fixed_sample() -> HostSample:
    return HostSample([FakeGpu()], 23.0, 12 * 1024**3, 64 * 1024**3)


async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
    """Let the poll worker finish and its messages be handled."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def poll_until(pilot, done: Callable[[], bool], timeout: float = 15.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "the monitor never got there"
        pilot.app.screen._tick()
        await settle(pilot)


def text_of(screen: MonitorScreen, selector: str) -> str:
    return str(screen.query_one(selector).render())


@pytest.fixture
def sleeper():
    proc = subprocess.Popen(["sleep", "120"], start_new_session=True)
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def live_run(root: Path, proc: subprocess.Popen, **kwargs) -> Path:  # type: ignore[no-untyped-def]
    return make_run(
        root, final=None, pid=proc.pid, pid_start_time=process_start_time(proc.pid), **kwargs
    )


async def test_finished_run_renders_its_whole_history(tmp_path: Path) -> None:
    run = make_run(tmp_path, steps=40, total_steps=40)
    app = MonitorApp(run, gpu_sampler=fixed_sample)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, MonitorScreen)
        await poll_until(pilot, lambda: screen.info is not None)
        assert screen.info.status == "completed" and not screen.info.live
        assert "completed" in text_of(screen, "#run-title")
        progress = text_of(screen, "#progress-text")
        assert "step 40/40" in progress and "epoch 2" in progress
        assert len(screen.history.loss.xs) == 40 and len(screen.history.eval_loss.xs) == 4
        assert screen.query_one(LossChart).plotted_points > 40
        for chart in screen.query(MetricChart):
            assert chart.plotted_points > 0, chart.metric
        assert "Paris." in text_of(screen, "#samples")
        assert "H100" in text_of(screen, "#gpus") and "41.0/80.0 GiB" in text_of(screen, "#gpus")
        assert screen.query_one("#log-lines").line_count == 30
        assert not screen.query_one("#failure").display


async def test_status_reaches_completed_when_the_events_say_so(tmp_path: Path, sleeper) -> None:
    run = live_run(tmp_path, sleeper, steps=10, total_steps=20)
    app = MonitorApp(run, gpu_sampler=fixed_sample)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await poll_until(pilot, lambda: screen.info is not None)
        assert (screen.info.status, screen.info.live) == ("running", True)
        assert "step 10/20" in text_of(screen, "#progress-text")
        append_events(
            run,
            *[{"t": T0 + 20 + s, "type": "metrics", "step": s, "loss": 1.0} for s in range(11, 21)],
            {"t": T0 + 45, "type": "status", "status": "completed", "step": 20},
        )
        await poll_until(pilot, lambda: screen.info.status == "completed")
        assert "step 20/20" in text_of(screen, "#progress-text")
        assert len(screen.history.loss.xs) == 20
        assert any("completed" in (n.title or "") for n in app._notifications)


async def test_killed_process_flips_status_to_failed(tmp_path: Path, sleeper) -> None:
    run = live_run(tmp_path, sleeper)
    app = MonitorApp(run, gpu_sampler=fixed_sample)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await poll_until(pilot, lambda: screen.info is not None and screen.info.live)
        sleeper.kill()
        sleeper.wait()
        await poll_until(pilot, lambda: screen.info.status == "failed")
        assert not screen.info.live
        assert "exited without a final status" in text_of(screen, "#run-title")


async def test_out_of_memory_error_shows_message_hint_and_edit_key(tmp_path: Path) -> None:
    oom = {
        "t": T0 + 30,
        "type": "error",
        "kind": "oom",
        "message": "CUDA out of memory. Tried to allocate 2.00 GiB",
        "hint": "",
    }
    run = make_run(
        tmp_path, steps=12, final="failed", reason="CUDA out of memory", extra_events=[oom]
    )
    messages: list = []
    app = MonitorApp(run, gpu_sampler=fixed_sample)
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        screen = app.screen
        await poll_until(pilot, lambda: screen.failure is not None)
        panel = screen.query_one("#failure")
        assert panel.display
        shown = text_of(screen, "#failure")
        assert "CUDA out of memory" in shown and "per_device_batch_size" in shown
        await pilot.press("e")
        await pilot.pause()
        asked = {id(m): m for m in messages if isinstance(m, MonitorScreen.EditSettingRequested)}
        assert [m.setting for m in asked.values()] == ["train.per_device_batch_size"]  # bubbles


async def test_nan_loss_is_shown_as_nan_never_zero(tmp_path: Path) -> None:
    nan_step = {
        "t": T0 + 20,
        "type": "metrics",
        "step": 13,
        "epoch": 0.65,
        "loss": "nan",
        "lr": 3e-4,
        "grad_norm": "nan",
        "tokens_per_s": 5000.0,
    }
    run = make_run(
        tmp_path,
        steps=12,
        total_steps=40,
        final="failed",
        reason="non-finite loss at step 13 (last finite loss at step 12)",
        extra_events=[nan_step],
    )
    app = MonitorApp(run, gpu_sampler=fixed_sample)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await poll_until(pilot, lambda: screen.failure is not None)
        assert "loss nan" in text_of(screen, "#progress-text")
        assert "step 13" in text_of(screen, "#failure")
        assert screen.failure.setting == "train.learning_rate"
        assert 0.0 not in screen.history.loss.ys
        assert screen.history.loss.nonfinite and screen.history.loss.nonfinite[0][0] == 13


async def test_leaving_never_stops_training(tmp_path: Path, sleeper) -> None:
    run = live_run(tmp_path, sleeper)
    app = MonitorApp(run, gpu_sampler=fixed_sample)
    async with app.run_test(size=SIZE) as pilot:
        await poll_until(pilot, lambda: app.screen.info is not None)
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0 or app.return_code is None
    assert sleeper.poll() is None and not (run / "STOP").exists()


async def test_stop_asks_then_kills_the_process_group(tmp_path: Path, sleeper) -> None:
    run = live_run(tmp_path, sleeper)
    app = MonitorApp(run, gpu_sampler=fixed_sample)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await poll_until(pilot, lambda: screen.info is not None and screen.info.live)
        await pilot.press("s")
        await pilot.pause()
        assert (run / "STOP").is_file()
        assert sleeper.poll() is None  # asking is not killing
        await pilot.press("s")
        await poll_until(pilot, lambda: not screen.info.live)
        assert sleeper.wait(timeout=15) is not None
        assert screen.info.status in ("stopped", "failed")


async def test_stop_on_a_finished_run_says_so_and_kills_nothing(tmp_path: Path) -> None:
    run = make_run(tmp_path)  # completed: its recorded pid is not alive
    seen: list[object] = []
    app = MonitorApp(run, gpu_sampler=fixed_sample)
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        screen = app.screen
        await poll_until(pilot, lambda: screen.info is not None)
        await pilot.press("s")
        await settle(pilot)
        told = list({id(x): x for x in seen if isinstance(x, RunActions.Told)}.values())
        assert [t.text for t in told] == ["The run is not running: nothing to stop."]
        assert any(n.message == told[0].text for n in app._notifications)
        assert not (run / "STOP").exists()


async def test_a_resume_that_raises_is_told_as_refused(tmp_path: Path) -> None:
    """The resume worker's core call fails on a real input (a config that no longer
    validates): the widget's failure handler tells why, as an error."""
    run = make_run(tmp_path, final="failed", checkpoints=(10,))
    (run / "config.yaml").write_text("train:\n  learning_rate: -1\n")
    seen: list[object] = []
    app = MonitorApp(run, gpu_sampler=fixed_sample)
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        screen = app.screen
        await poll_until(pilot, lambda: screen.info is not None and screen.info.resumable)
        await pilot.press("r")
        await settle(pilot)
        told = list({id(x): x for x in seen if isinstance(x, RunActions.Told)}.values())
        assert len(told) == 1 and told[0].severity == "error" and not told[0].resumed
        assert told[0].text.startswith("Resume refused: ") and "learning_rate" in told[0].text
        notes = [n for n in app._notifications if n.message == told[0].text]
        assert notes and notes[0].severity == "error"
    assert not (run / "logs" / "launcher.log").exists()  # nothing was launched


async def test_runs_screen_lists_runs_and_opens_the_monitor(tmp_path: Path) -> None:
    make_run(tmp_path, "demo-20261124-080000", t0=T0)
    make_run(tmp_path, "demo-20261124-090000", t0=T0 + 3600, final="failed", reason="boom")
    app = RunsApp(tmp_path, gpu_sampler=fixed_sample)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert [r.name for r in screen.runs] == ["demo-20261124-090000", "demo-20261124-080000"]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, MonitorScreen)
        assert app.screen.run_dir == tmp_path / "demo-20261124-090000"
        await pilot.press("q")
        await pilot.pause()
        assert not isinstance(app.screen, MonitorScreen)


def test_snapshot_monitor_finished_run(tmp_path: Path, snap_compare, monkeypatch) -> None:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    run = make_run(tmp_path, steps=120, total_steps=120, checkpoints=(60, 120))
    assert snap_compare(
        MonitorApp(run, gpu_sampler=fixed_sample), terminal_size=SIZE, run_before=settle
    )


def test_snapshot_runs_list(tmp_path: Path, snap_compare, monkeypatch) -> None:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    monkeypatch.chdir(tmp_path)  # a relative root: the screen shows it, so no temp path
    root = tmp_path / "runs"
    make_run(root, "demo-20261124-080000", t0=T0)
    make_run(
        root, "alpaca-20261124-090000", t0=T0 + 3600, steps=20, final="stopped", checkpoints=(20,)
    )
    make_run(
        root,
        "qa-20261124-100000",
        t0=T0 + 7200,
        final="failed",
        reason="CUDA out of memory. Tried to allocate 2.00 GiB",
    )
    app = RunsApp("runs", gpu_sampler=fixed_sample)
    assert snap_compare(app, terminal_size=SIZE, run_before=settle)


async def test_log_view_switches_rank_on_request(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    app = MonitorApp(run, gpu_sampler=fixed_sample)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await poll_until(pilot, lambda: screen.info is not None)
        assert "rank0.log" in text_of(screen, "#log-title")
        await pilot.press("l")
        await poll_until(pilot, lambda: "rank1.log" in text_of(screen, "#log-title"))
        assert screen.query_one("#log-lines").lines[-1].startswith("[rank1]")


async def test_stalled_run_is_flagged_and_announced(tmp_path: Path, sleeper) -> None:
    run = live_run(tmp_path, sleeper, t0=time.time() - 200)  # last step about 150 s ago
    app = MonitorApp(run, gpu_sampler=fixed_sample, stall_after_s=60)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await poll_until(pilot, lambda: screen.stalled)
        assert "STALLED" in text_of(screen, "#run-title")
        assert any("stalled" in (n.title or "") for n in app._notifications)


async def test_loss_chart_draws_a_thinned_copy_of_100k_points() -> None:
    from textual.app import App

    from ftui.core.runs.metrics import RunHistory

    history = RunHistory()
    history.add(
        [
            {"t": float(s), "type": "metrics", "step": s, "loss": 1.0 + (s % 7) / 10}
            for s in range(1, 100_001)
        ]
    )

    class ChartApp(App):
        def compose(self):  # type: ignore[no-untyped-def]
            yield LossChart()

    app = ChartApp()
    async with app.run_test(size=SIZE) as pilot:
        chart = app.query_one(LossChart)
        chart.show(history)
        await pilot.pause()
        assert len(history.loss.xs) == 100_000  # all data kept
        assert 0 < chart.plotted_points <= 2 * 500  # raw + smoothed, thinned for display


@pytest.mark.parametrize("make", [MonitorApp, RunsApp])
async def test_the_palette_key_is_the_wizards_everywhere(tmp_path: Path, make) -> None:  # type: ignore[no-untyped-def]
    from textual.command import CommandPalette

    from ftui.tui.app import FtuiApp
    from ftui.tui.playground_app import PlaygroundApp

    assert MonitorApp.COMMAND_PALETTE_BINDING == FtuiApp.COMMAND_PALETTE_BINDING
    assert PlaygroundApp.COMMAND_PALETTE_BINDING == FtuiApp.COMMAND_PALETTE_BINDING
    run = make_run(tmp_path)
    app = make(run if make is MonitorApp else tmp_path, gpu_sampler=fixed_sample)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")
        assert not isinstance(app.screen, CommandPalette)
        await pilot.press("ctrl+backslash")
        assert isinstance(app.screen, CommandPalette)


async def test_a_completed_run_offers_what_applies_and_r_answers_as_the_cli(
    tmp_path: Path,
) -> None:
    from conftest import run_ftui

    run = make_run(tmp_path, checkpoints=(20, 40))  # completed, two complete checkpoints
    seen: list[object] = []
    app = MonitorApp(run, gpu_sampler=fixed_sample)
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        screen = app.screen
        await poll_until(pilot, lambda: screen.info is not None)
        title = text_of(screen, "#run-title")
        assert "● completed" in title and "(live)" not in title
        shown = {
            key: active.binding.description
            for key, active in screen.active_bindings.items()
            if active.binding.show and active.enabled
        }
        assert "s" not in shown and "r" not in shown, shown
        assert shown["q"] == "Leave" and "training goes on" not in " ".join(shown.values())
        await pilot.press("r")
        await settle(pilot)
        told = list({id(x): x for x in seen if isinstance(x, RunActions.Told)}.values())
    cli = run_ftui("resume", run.name, "--root", str(tmp_path))
    assert cli.returncode == 2
    assert [t.text for t in told] == [f"{run.name} already completed; nothing to resume"]
    assert f"cannot resume {run.name}: {told[0].text}" in cli.stderr
    assert not (run / "logs" / "launcher.log").exists()  # nothing was launched


async def test_a_final_status_while_processes_live_is_not_called_live(
    tmp_path: Path, sleeper
) -> None:
    run = make_run(tmp_path, pid=sleeper.pid, pid_start_time=process_start_time(sleeper.pid))
    app = MonitorApp(run, gpu_sampler=fixed_sample)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await poll_until(pilot, lambda: screen.info is not None)
        title = text_of(screen, "#run-title")
        assert "● completed  (processes exiting)" in title and "(live)" not in title


async def test_chart_axes_count_whole_steps(tmp_path: Path) -> None:
    import re

    run = make_run(tmp_path, steps=79, total_steps=79)
    app = MonitorApp(run, gpu_sampler=fixed_sample)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await poll_until(pilot, lambda: screen.info is not None and screen.history.count > 0)
        for chart in screen.query(MetricChart):
            lines = re.sub(r"\x1b\[[0-9;]*m", "", chart.plt.build()).splitlines()
            axis = lines[[line.strip() for line in lines].index("step") - 1]  # under the plot
            labels = re.findall(r"\d[\d.,]*", axis)
            assert labels and all(re.fullmatch(r"\d+", x) for x in labels), (chart.id, axis)


async def test_a_screenshot_is_saved_where_a_folder_exists_and_says_where(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home, cwd = tmp_path / "home", Path.cwd()  # a home without ~/Downloads; cwd: a temp dir
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_DOWNLOAD_DIR", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    app = MonitorApp(make_run(tmp_path / "runs", "Grüße-世界-20261124-080000"))
    async with app.run_test(size=SIZE) as pilot:
        app.action_screenshot()
        await poll_until(pilot, lambda: any(cwd.glob("*.svg")) and bool(app._notifications))
        said = [n.message for n in app._notifications]
        [saved] = cwd.glob("*.svg")
        assert any("Saved screenshot to" in line and str(saved) in line for line in said), said
        assert "Grüße-世界" in saved.read_text()


async def test_eval_card_shows_eval_loss_from_step_0_the_best_checkpoint_and_forgetting(
    tmp_path: Path,
) -> None:
    from ftui.train.callbacks import write_eval_record

    forgetting = {
        "t": T0 + 50,
        "type": "forgetting",
        "base_loss": 2.84,
        "tuned_loss": 3.4,
        "change": 0.197,
    }
    step0 = {"t": T0 + 1.5, "type": "eval", "step": 0, "eval_loss": 3.5, "perplexity": 33.1}
    run = make_run(tmp_path, steps=40, checkpoints=(20, 40), extra_events=[step0, forgetting])
    # eval events are at steps 10/20/30/40 (make_run); checkpoint-20 recorded the lowest
    write_eval_record(run / "checkpoints" / "checkpoint-20", 20, 0.9)
    write_eval_record(run / "checkpoints" / "checkpoint-40", 40, 1.1)
    app = MonitorApp(run, gpu_sampler=fixed_sample)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await poll_until(pilot, lambda: screen.info is not None)
        card = screen.query_one("#eval-card")
        text = text_of(screen, "#eval-card")
        assert card.display and card.has_class("-warning")
        assert "eval loss 3.5 →" in text and "step 0 → 40" in text
        assert "best: checkpoint-20 (eval loss 0.9)" in text
        assert "general-text loss +19.7% (base 2.84 → 3.40)" in text
        assert "lower train.learning_rate, fewer train.epochs" in text
        assert 0 in screen.history.eval_loss.xs  # the step-0 point of the loss chart
