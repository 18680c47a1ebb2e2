"""Launch from the Review step: preflight first; a failure refuses and jumps to the field to
fix; a pass starts the real detached run."""

from __future__ import annotations

from pathlib import Path

from ftui.tui import messages as m
from ftui.tui.screens.data_step import DataStepScreen
from ftui.tui.screens.review import ReviewScreen

from .wizard_helpers import make_app, settle


async def test_failed_preflight_refuses_and_opens_the_field(tmp_path: Path) -> None:
    seen: list[object] = []
    app = make_app(gpus=0, preset="demo", step="review")
    async with app.run_test(size=(120, 36), message_hook=seen.append) as pilot:
        await settle(pilot)
        app.apply_changes(
            {"data.source": str(tmp_path / "missing.jsonl"), "output.root": str(tmp_path / "runs")}
        )
        await pilot.press("ctrl+l")
        await settle(pilot)
        finished = [x for x in seen if isinstance(x, m.PreflightFinished)]
        assert finished and not finished[0].report.ok
        assert not any(isinstance(x, m.RunLaunched) for x in seen)
        assert isinstance(app.screen, DataStepScreen)
        assert app.screen.focus_field == finished[0].report.errors[0][0]
        assert not (tmp_path / "runs").exists()


async def test_launch_starts_a_real_run(tmp_path: Path) -> None:
    from ftui.core.launch import kill_run
    from ftui.core.rundir import RunPaths

    seen: list[object] = []
    app = make_app(gpus=0, preset="demo", step="review")
    async with app.run_test(size=(120, 36), message_hook=seen.append) as pilot:
        await settle(pilot)
        app.apply_changes({"output.root": str(tmp_path / "runs"), "train.max_steps": 2})
        await pilot.press("ctrl+l")
        await settle(pilot)
        launched = [x for x in seen if isinstance(x, m.RunLaunched)]
        assert launched, [str(app.launch_state)]
        fetched = [x for x in seen if isinstance(x, m.ModelFetched)]
        assert fetched and fetched[0].error is None  # the built-in model needs no download
        run_dir = launched[0].run_dir
        try:
            paths = RunPaths(run_dir)
            assert paths.config.is_file() and paths.run_json.is_file()
            assert "train:\n" in paths.config.read_text()
            assert "max_steps: 2" in paths.config.read_text()
            assert run_dir.parent == tmp_path / "runs"
        finally:
            kill_run(run_dir, grace_s=2.0)
        if isinstance(app.screen, ReviewScreen):  # no monitor screen in this checkout
            assert str(run_dir) in str(app.screen.query_one("#launch-status").render())


async def test_check_runs_preflight_without_launching(tmp_path: Path) -> None:
    seen: list[object] = []
    app = make_app(gpus=0, preset="demo", step="review")
    async with app.run_test(size=(120, 36), message_hook=seen.append) as pilot:
        await settle(pilot)
        app.apply_changes({"output.root": str(tmp_path / "runs")})
        await pilot.press("ctrl+t")
        await settle(pilot)
        finished = [x for x in seen if isinstance(x, m.PreflightFinished)]
        assert finished and finished[0].report.ok, finished
        assert not any(isinstance(x, (m.ModelFetched, m.RunLaunched)) for x in seen)
        assert "Preflight passed" in str(app.screen.query_one("#launch-status").render())
        assert not (tmp_path / "runs").exists()
