"""The app's one worker-failure handler, on real failing inputs: a worker whose core call
raises posts no result, and its reason becomes the error of the state it was loading, shown
on the screen as an error (never an empty or made-up value)."""

from __future__ import annotations

from pathlib import Path

from textual.worker import Worker, WorkerState

from ftui.tui import messages as m
from ftui.tui.screens.wizard.model import ModelScreen
from ftui.tui.screens.wizard.review import ReviewScreen

from .wizard_helpers import make_app, settle, wait_until


def failed_groups(seen: list[object]) -> list[str]:
    return [
        x.worker.group
        for x in seen
        if isinstance(x, Worker.StateChanged) and x.state == WorkerState.ERROR
    ]


async def test_a_model_path_that_does_not_exist_shows_why(tmp_path: Path) -> None:
    missing = str(tmp_path / "no-such-model")
    seen: list[object] = []
    app = make_app(gpus=0, preset="demo", step="model", field="model.name_or_path")
    async with app.run_test(size=(120, 36), message_hook=seen.append) as pilot:
        await settle(pilot)
        assert app.model_facts.value is not None  # the demo model was inspected
        app.apply_changes({"model.name_or_path": missing})
        await wait_until(pilot, lambda: not app.model_facts.loading)
        assert failed_groups(seen) == ["inspect-model"]
        assert not any(isinstance(x, m.ModelInspected) and x.key[0] == missing for x in seen)
        facts = app.model_facts
        assert facts.key == (missing, None, False) and facts.value is None
        assert facts.error is not None and "no such directory" in facts.error
        assert isinstance(app.screen, ModelScreen)
        assert "no such directory" in str(app.screen.query_one("#facts").render())


async def test_a_launch_that_raises_says_launch_failed(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    runs.mkdir()
    seen: list[object] = []

    def hook(message: object) -> None:
        seen.append(message)
        if isinstance(message, m.PreflightFinished) and message.report.ok and runs.is_dir():
            # Between the preflight and the launch the folder becomes a file: the launch raises.
            runs.rmdir()
            runs.write_text("a file where the runs should go\n")

    app = make_app(gpus=0, preset="demo", step="review")
    async with app.run_test(size=(120, 36), message_hook=hook) as pilot:
        await settle(pilot)
        app.apply_changes({"output.root": str(runs)})
        await pilot.press("ctrl+l")  # preflight passes; writing the run dir under a file fails
        await settle(pilot)
        assert any(isinstance(x, m.ModelFetched) for x in seen)
        assert failed_groups(seen) == ["launch"]
        assert not any(isinstance(x, m.RunLaunched) for x in seen)
        state = app.launch_state
        assert not state.loading and state.value is None
        assert state.error is not None and state.error.startswith("Launch failed: ")
        assert isinstance(app.screen, ReviewScreen)
        assert state.error in str(app.screen.query_one("#launch-status").render())
    assert runs.read_text() == "a file where the runs should go\n"


async def test_preflight_refuses_output_root_that_is_a_file(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "runs"
    not_a_dir.write_text("a file where the runs should go\n")
    seen: list[object] = []
    app = make_app(gpus=0, preset="demo", step="review")
    async with app.run_test(size=(120, 36), message_hook=seen.append) as pilot:
        await settle(pilot)
        app.apply_changes({"output.root": str(not_a_dir)})
        await pilot.press("ctrl+l")
        await settle(pilot)
        assert not any(isinstance(x, m.ModelFetched) for x in seen)  # refused before the launch
        report = next(x.report for x in seen if isinstance(x, m.PreflightFinished))
        assert [f for f, _ in report.errors] == ["output.root"]
        assert "is a file, not a directory" in report.errors[0][1]
