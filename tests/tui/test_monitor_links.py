"""The wizard and the monitor: runs on the Start step open the monitor, and the monitor's
"fix setting" opens the wizard on that run's config at the field to change."""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_runs import make_run

from ftui.core.presets import resolve_spec
from ftui.tui.messages import RunChosen
from ftui.tui.screens.wizard.training import TrainingScreen
from ftui.tui.widgets.monitor.runs_table import RunsTable

from .wizard_helpers import make_app, settle

monitor = pytest.importorskip("ftui.tui.screens.monitor")


async def test_start_lists_runs_and_enter_opens_the_monitor(tmp_path: Path) -> None:
    run = make_run(tmp_path / "runs")
    app = make_app(gpus=0, preset="demo", runs_root=tmp_path / "runs")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(RunsTable)
        assert table.row_count == 1
        assert "completed" in str(table.get_row_at(0)[1])
        table.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, monitor.MonitorScreen)
        assert app.screen.run_dir == run


async def test_fix_setting_opens_the_wizard_on_the_runs_config(tmp_path: Path) -> None:
    run = make_run(tmp_path / "runs")
    spec = resolve_spec("demo", ["train.learning_rate=0.5", "name=lr-too-high"])
    spec.save(run / "config.yaml")
    app = make_app(gpus=0, step="review", runs_root=tmp_path / "runs")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        app.post_message(RunChosen(run))
        await pilot.pause()
        assert isinstance(app.screen, monitor.MonitorScreen)
        app.screen.post_message(
            monitor.MonitorScreen.EditSettingRequested("train.learning_rate", run)
        )
        await settle(pilot)
        assert isinstance(app.screen, TrainingScreen)
        assert len(app.screen_stack) == 2  # the monitor was closed, not left underneath
        assert app.focused is not None
        assert app.spec is not None and app.spec.to_yaml() == spec.to_yaml()
