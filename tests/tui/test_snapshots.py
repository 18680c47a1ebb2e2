"""One SVG snapshot per wizard step at 120x36 (pytest-textual-snapshot).

Made stable: a fake NVML with 2 GPUs, fixed CPU/RAM figures, the demo preset, an empty HF
cache, a fixed interpreter path in the command, no cursor blink.
Update with `pytest tests/tui/test_snapshots.py --snapshot-update`, then look at them.
"""

from __future__ import annotations

import pytest
from textual.widgets import Input

from ftui.tui.steps import step_ids

from .wizard_helpers import make_app, settle

GIB = 1024**3


@pytest.fixture
def fixed_machine(monkeypatch: pytest.MonkeyPatch, fixed_python: None) -> None:
    hardware = pytest.importorskip("ftui.core.hardware")
    monkeypatch.setattr(hardware, "_meminfo", lambda: (64 * GIB, 48 * GIB))
    monkeypatch.setattr(hardware, "_cpu_count", lambda: 16)
    monkeypatch.setattr(hardware, "_has_bitsandbytes", lambda: False)


@pytest.mark.parametrize("step", step_ids())
def test_step_snapshot(step: str, snap_compare, fixed_machine: None) -> None:  # type: ignore[no-untyped-def]
    app = make_app(gpus=2, preset="demo")

    async def show(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        app.open_step(step)
        await settle(pilot)
        for widget in app.screen.query(Input):
            widget.cursor_blink = False

    assert snap_compare(app, terminal_size=(120, 36), run_before=show)


def test_invalid_field_snapshot(snap_compare, fixed_machine: None) -> None:  # type: ignore[no-untyped-def]
    """An invalid value is marked where it is, and its step is marked in the step list."""
    app = make_app(gpus=2, preset="demo", step="training", field="train.learning_rate")

    async def type_bad_value(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press(*"fast")
        await settle(pilot)
        for widget in app.screen.query(Input):
            widget.cursor_blink = False

    assert snap_compare(app, terminal_size=(120, 36), run_before=type_bad_value)


def test_save_preset_dialog_snapshot(snap_compare, fixed_machine: None) -> None:  # type: ignore[no-untyped-def]
    app = make_app(gpus=2, preset="demo", step="review")

    async def open_dialog(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        for widget in app.screen.query(Input):
            widget.cursor_blink = False

    assert snap_compare(app, terminal_size=(120, 36), run_before=open_dialog)
