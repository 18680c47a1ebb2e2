"""Add to queue from the Review step (ctrl+u, also in the footer): the spec lands in the real
queue file, with its output root made absolute, and the screen says how to run the queue."""

from __future__ import annotations

from pathlib import Path

import pytest

from ftui.core.launch import queue

from .wizard_helpers import make_app, settle


async def test_ctrl_u_queues_the_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FTUI_HOME", str(tmp_path / "home"))
    app = make_app(gpus=0, preset="demo", step="review")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        app.apply_changes({"output.root": str(tmp_path / "runs"), "train.max_steps": 7})
        await settle(pilot)
        shown = app.screen.active_bindings["ctrl+u"].binding  # what the footer lists
        assert shown.description == "Queue" and shown.show
        await pilot.press("ctrl+u")
        await settle(pilot)
        (entry,) = queue.entries()
        assert entry.state == "pending" and entry.label == "demo (from the wizard)"
        assert entry.spec["train"]["max_steps"] == 7
        assert entry.spec["output"]["root"] == str(tmp_path / "runs")
        assert entry.run_spec() == app.spec
        status = str(app.screen.query_one("#slurm-status").render())
        assert "Queued #1 demo" in status and "ftui queue run --detach" in status


async def test_every_review_key_fits_a_120_column_footer() -> None:
    """The Review step has the most keys; at 120 columns each one shown (Quit and the palette's
    included) is inside the screen, not cut off at its right edge."""
    from textual.widgets._footer import FooterKey

    app = make_app(gpus=0, preset="demo", step="review")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        keys = list(app.screen.query(FooterKey))
        shown = {k.key for k in keys if k.region.width and k.region.right <= 120}
        wanted = {"ctrl+l", "ctrl+t", "ctrl+b", "ctrl+u", "ctrl+o", "ctrl+q", "ctrl+s", "ctrl+r"}
        assert wanted <= shown, sorted(shown)
        assert "ctrl+n" not in {k.key for k in keys}  # the last step has no next one
