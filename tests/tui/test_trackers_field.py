"""The Training step shows train.report_to (its help is the field's docstring); typing
trackers there sets the spec, and the step scrolls to it like any field; the Review step's Check
warns when a tracker would upload."""

from __future__ import annotations

from pathlib import Path

import pytest

from ftui.tui.screens.wizard.training import TrainingScreen
from ftui.tui.widgets.wizard.spec_form import FieldRow, row_id

from .test_wizard_walk import tab_to
from .wizard_helpers import make_app, settle


async def test_report_to_is_typed_on_the_training_step(tmp_path: Path) -> None:
    app = make_app(gpus=0, preset="demo", step="training")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, TrainingScreen)
        row = app.screen.query_one(f"#{row_id('train.report_to')}", FieldRow)
        assert "tensorboard" in str(row.query_one(".field-help").render())
        await tab_to(pilot, "train.report_to")
        await pilot.press(*"tensorboard, wandb")
        await settle(pilot)
        assert app.spec is not None and app.spec.train.report_to == ["tensorboard", "wandb"]
        app.save_screenshot(str(tmp_path / "training.svg"))


async def test_review_check_warns_that_wandb_online_uploads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WANDB_MODE", raising=False)  # online: wandb's default
    app = make_app(gpus=0, preset="demo", step="review")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        app.apply_changes({"output.root": str(tmp_path / "runs"), "train.report_to": ["wandb"]})
        await pilot.press("ctrl+t")
        await settle(pilot)
        status = str(app.screen.query_one("#launch-status").render())
        assert "train.report_to: wandb uploads to https://api.wandb.ai as it trains" in status
        assert "WANDB_MODE=offline keeps it on this machine" in status
