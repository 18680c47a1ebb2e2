"""The Training step's measured probe: real steps on the demo model (CPU), its advice applied
to the form, a stale measurement marked as such, and a probe cancelled mid-way."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Button, Static

from ftui.core.presets import resolve_spec
from ftui.tui.app import FtuiApp
from ftui.tui.widgets.wizard.probe_panel import ProbePanel
from ftui.tui.widgets.wizard.spec_form import FieldRow, row_id

from .fake_nvml import FakeNvml
from .wizard_helpers import settle, wait_until

pytestmark = pytest.mark.slow


def _app(*overrides: str) -> FtuiApp:
    spec = resolve_spec("demo", ["data.max_seq_len=64", *overrides])
    return FtuiApp(
        spec, preset_name="demo", nvml=FakeNvml(0), runs_root=Path("runs"), step="training"
    )


def _status(app: FtuiApp) -> str:
    return str(app.screen.query_one("#probe-status", Static).render())


async def test_probe_measures_and_its_batch_applies() -> None:
    app = _app("train.per_device_batch_size=1", "train.gradient_accumulation_steps=4")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        panel = app.screen.query_one(ProbePanel)
        assert not panel.query_one("#probe-apply", Button).display
        await pilot.press("ctrl+t")
        await wait_until(pilot, lambda: "Training time" in _status(app), timeout=180)
        status = _status(app)
        assert "(cpu)" in status and "tokens/s" in status and "peak" in status
        # on CPU RAM four rows of 64 tokens fit easily: one batch of 4 keeps the effective 4
        assert "train.per_device_batch_size=4, train.gradient_accumulation_steps=1" in status
        apply = panel.query_one("#probe-apply", Button)
        assert apply.display and "batch 4 × accumulation 1" in str(apply.label)

        await pilot.press("ctrl+y")
        await settle(pilot)
        assert app.draft.get("train.per_device_batch_size") == 4
        assert app.draft.get("train.gradient_accumulation_steps") == 1
        row = app.screen.query_one(f"#{row_id('train.per_device_batch_size')}", FieldRow)
        assert row.control.value == "4"
        assert "= 8 rows per optimizer step" in str(
            app.screen.query_one("#effective-batch", Static).render()
        )
        assert not apply.display, "nothing left to apply once the suggestion is the spec"

        # a different sequence length makes the measurement stale
        app.apply_changes({"data.max_seq_len": 96})
        await settle(pilot)
        assert "measure again" in _status(app)
        assert panel.advice is None


async def test_probe_can_be_cancelled() -> None:
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        panel = app.screen.query_one(ProbePanel)
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert panel.running and "Cancel" in str(panel.query_one("#probe-run", Button).label)
        await pilot.press("ctrl+t")
        await wait_until(pilot, lambda: not panel.running, timeout=30)
        assert "cancelled" in _status(app)
        assert panel.result is None and "Measure" in str(panel.query_one("#probe-run").label)


async def test_probe_on_an_invalid_spec_says_what_to_do() -> None:
    app = _app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.apply_changes({"train.learning_rate": "fast"})
        await settle(pilot)
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert "Fix the marked fields first" in _status(app)
        assert not app.screen.query_one(ProbePanel).running
