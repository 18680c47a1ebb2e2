"""The monitor's split view (v): every rank's log side by side, paged with l, on real run dirs."""

from __future__ import annotations

import time
from pathlib import Path

from fake_runs import make_run  # noqa: E402
from textual.widgets import Label, Log

from ftui.tui.monitor_app import MonitorApp  # noqa: E402
from ftui.tui.screens.monitor import MonitorScreen  # noqa: E402
from ftui.tui.widgets.monitor.split_log_view import SplitLogView  # noqa: E402

from .test_monitor import SIZE, fixed_sample, poll_until, settle, text_of

TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "ftui/train/worker.py", line 80, in main\n'
    "RuntimeError: NCCL communicator was aborted on rank 3\n"
)


def run_with_ranks(root: Path, ranks: int) -> Path:
    run = make_run(root)  # writes rank0.log and rank1.log, 30 lines each
    for rank in range(2, ranks):
        lines = "".join(f"[rank{rank}] step {i} loss 1.0\n" for i in range(1, 31))
        (run / "logs" / f"rank{rank}.log").write_text(lines)
    (run / "logs" / "launcher.log").write_text("torchrun started\n")
    return run


def split_view(screen: MonitorScreen) -> SplitLogView:
    return screen.query_one(SplitLogView)


def titles(screen: MonitorScreen) -> list[str]:
    return [c.title for c in split_view(screen).columns]


def last_lines(screen: MonitorScreen) -> list[str]:
    return [c.query_one(Log).lines[-1] for c in split_view(screen).columns]


def shown_text(log: Log) -> str:
    """What the Log widget draws, row by row (not what it was given)."""
    return "\n".join(
        "".join(segment.text for segment in log.render_line(y)) for y in range(log.size.height)
    )


async def test_two_ranks_side_by_side_then_back_to_one_log(tmp_path: Path) -> None:
    run = run_with_ranks(tmp_path, 2)
    app = MonitorApp(run, gpu_sampler=fixed_sample)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await poll_until(pilot, lambda: screen.info is not None)
        assert not split_view(screen).display and screen.query_one("#logs").display
        await pilot.press("v")
        await poll_until(pilot, lambda: titles(screen) == ["rank 0", "rank 1"])
        assert split_view(screen).display and not screen.query_one("#logs").display
        assert "ranks 0–1 of 2" in text_of(screen, "#split-title")
        assert last_lines(screen) == ["[rank0] step 30 loss 1.0", "[rank1] step 30 loss 1.0"]
        with open(run / "logs" / "rank1.log", "a") as fh:
            fh.write("[bold]not bold[/bold] step 31\n")
        await poll_until(pilot, lambda: last_lines(screen)[1].endswith("step 31"))
        assert last_lines(screen)[1] == "[bold]not bold[/bold] step 31"
        rank1 = split_view(screen).columns[1].query_one(Log)
        assert "[bold]not bold[/bold] step 31" in shown_text(rank1)  # drawn literally
        assert app.active_bindings["l"].binding.description == "Next ranks"
        assert app.active_bindings["v"].binding.description == "Single log"
        await pilot.press("v")
        await poll_until(pilot, lambda: screen.query_one("#logs").display)
        await poll_until(pilot, lambda: "rank0.log" in text_of(screen, "#log-title"))
        assert not split_view(screen).display
        assert app.active_bindings["l"].binding.description == "Next log"
        assert screen.query_one("#log-lines", Log).line_count == 30


async def test_six_ranks_show_four_columns_and_page_to_the_rest(tmp_path: Path) -> None:
    run = run_with_ranks(tmp_path, 6)
    app = MonitorApp(run, gpu_sampler=fixed_sample)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await poll_until(pilot, lambda: screen.info is not None)
        await pilot.press("v")
        await poll_until(pilot, lambda: len(titles(screen)) == 4)
        assert titles(screen) == ["rank 0", "rank 1", "rank 2", "rank 3"]
        assert "ranks 0–3 of 6" in text_of(screen, "#split-title")
        assert last_lines(screen)[2] == "[rank2] step 30 loss 1.0"
        await pilot.press("l")
        await poll_until(pilot, lambda: titles(screen) == ["rank 4", "rank 5"])
        assert "ranks 4–5 of 6" in text_of(screen, "#split-title")
        assert last_lines(screen) == ["[rank4] step 30 loss 1.0", "[rank5] step 30 loss 1.0"]
        assert set(screen.watcher._split.tails) == {
            run / "logs" / "rank4.log",
            run / "logs" / "rank5.log",
        }
        with open(run / "logs" / "rank5.log", "a") as fh:
            fh.write(TRACEBACK)
        await poll_until(pilot, lambda: split_view(screen).columns[1].error)
        rank4, rank5 = split_view(screen).columns
        assert rank5.query_one(".rank-title", Label).has_class("-error")
        assert not rank4.query_one(".rank-title", Label).has_class("-error")
        assert "error" in str(rank5.query_one(".rank-title", Label).render())
        assert last_lines(screen)[1].startswith("RuntimeError: NCCL")
        await pilot.press("l")
        await poll_until(pilot, lambda: titles(screen)[0] == "rank 0")  # wraps to the first page


async def test_a_narrow_terminal_shows_fewer_columns(tmp_path: Path) -> None:
    run = run_with_ranks(tmp_path, 6)
    app = MonitorApp(run, gpu_sampler=fixed_sample)
    async with app.run_test(size=(70, 36)) as pilot:
        screen = app.screen
        await poll_until(pilot, lambda: screen.info is not None)
        await pilot.press("v")
        await poll_until(pilot, lambda: titles(screen) == ["rank 0", "rank 1"])
        assert "ranks 0–1 of 6" in text_of(screen, "#split-title")


def test_snapshot_monitor_split_logs(tmp_path: Path, snap_compare, monkeypatch) -> None:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    run = run_with_ranks(tmp_path, 6)
    with open(run / "logs" / "rank3.log", "a") as fh:
        fh.write(TRACEBACK)
    with open(run / "logs" / "rank1.log", "a") as fh:
        fh.write("[bold]shown as typed[/bold]\n")

    async def split(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("v")
        await poll_until(pilot, lambda: len(titles(pilot.app.screen)) == 4)

    assert snap_compare(
        MonitorApp(run, gpu_sampler=fixed_sample), terminal_size=SIZE, run_before=split
    )
