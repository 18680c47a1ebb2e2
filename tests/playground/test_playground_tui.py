"""The playground and export screens under Pilot, on the session's real demo run."""

from __future__ import annotations

import asyncio
import itertools
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from playground_helpers import wait_for
from textual import events
from textual.message import Message
from textual.widgets import Input

from ftui.core.runs.forgetting import read_forgetting, summary_line
from ftui.tui.playground_app import PlaygroundApp
from ftui.tui.screens.playground import PlaygroundScreen
from ftui.tui.widgets.chat.compare import ComparePane, ProbeTable
from ftui.tui.widgets.chat.log import ChatTurn

QUESTION = "What is the capital of France?"
ANSWER = "The capital of France is Paris."
SIZE = (120, 36)

pytestmark = pytest.mark.slow


def fixed_clock() -> Callable[[], float]:
    """Every reading is 10 ms after the last: tokens/s and TTFT are the same on every run."""
    ticks = itertools.count()
    return lambda: next(ticks) * 0.01


async def ask(pilot, text: str) -> None:  # type: ignore[no-untyped-def]
    screen: PlaygroundScreen = pilot.app.screen
    turn = screen.turn
    await pilot.click("#chat-input")
    await pilot.press(*text, "enter")
    await wait_for(pilot, lambda: screen.turn > turn and not screen.generating)


async def loaded(pilot) -> PlaygroundScreen:  # type: ignore[no-untyped-def]
    await wait_for(pilot, lambda: pilot.app.screen.session is not None)
    for widget in pilot.app.query(Input):
        widget.cursor_blink = False
    return pilot.app.screen


def finished(messages: list[Message]) -> list[PlaygroundScreen.AnswerFinished]:
    seen: dict[int, PlaygroundScreen.AnswerFinished] = {}
    for m in messages:
        if isinstance(m, PlaygroundScreen.AnswerFinished):
            seen[id(m)] = m  # a message bubbles: the hook sees it at the screen and the app
    return list(seen.values())


async def test_chat_answers_with_the_adapter_and_not_without(demo: Path) -> None:
    messages: list[Message] = []
    app = PlaygroundApp(demo)
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        screen = await loaded(pilot)
        reading = read_forgetting(demo)
        assert reading is not None
        notes = [t.text for t in screen.query(ChatTurn) if t.role == "note"]
        assert summary_line(reading) in notes  # the eval card's forgetting meter
        await ask(pilot, QUESTION)
        tuned = finished(messages)[-1]
        assert tuned.text == ANSWER
        assert tuned.chunks > 1  # streamed, not delivered at once
        grew = [m for m in messages if isinstance(m, PlaygroundScreen.AnswerGrew)]
        assert grew and ANSWER.startswith(grew[0].text) and grew[0].chunks >= 1
        assert tuned.stats is not None and tuned.stats.tokens_per_s > 0
        answer_turn = [t for t in screen.query(ChatTurn) if t.role == "assistant"][-1]
        assert answer_turn.text == ANSWER and "tok/s" in answer_turn.detail
        await pilot.press("ctrl+l")  # clear: the base gets the question with no history
        assert screen.session is not None and screen.session.messages == []
        await pilot.press("ctrl+b")
        await ask(pilot, QUESTION)
        base = finished(messages)[-1]
        assert base.turn == tuned.turn + 1
        assert base.text != ANSWER


async def test_stop_key_ends_a_long_answer(demo: Path) -> None:
    app = PlaygroundApp(demo, base=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        settings = screen.query_one("#set-max_new_tokens", Input)
        settings.value = "400"
        await pilot.pause()
        assert screen.session is not None and screen.session.settings.max_new_tokens == 400
        await pilot.click("#chat-input")
        await pilot.press(*"Tell me everything")
        # Enter, then Esc while it answers (pilot.press would wait for the whole answer).
        app.post_message(events.Key("enter", "\r"))
        while not screen.generating:
            await asyncio.sleep(0.005)
        app.post_message(events.Key("escape", None))
        await wait_for(pilot, lambda: screen.turn == 1 and not screen.generating)
        stopped = screen.session.last_stats
        assert stopped is not None and stopped.stopped and stopped.new_tokens < 400
        await pilot.press("ctrl+l")
        await ask(pilot, "Tell me everything")  # a stop ends one answer, not the next
        stats = screen.session.last_stats
        assert stats is not None and not stats.stopped
        assert stats.new_tokens > stopped.new_tokens
        screen.query_one("#set-temperature", Input).value = "-2"
        await pilot.pause()
        assert screen.query_one("#set-temperature", Input).has_class("-invalid")
        assert screen.session.settings.temperature == 0.0  # the bad value was not taken


async def test_compare_base_and_fine_tuned_side_by_side(demo: Path) -> None:
    app = PlaygroundApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        await pilot.press("f2")
        await pilot.pause()
        await pilot.click("#compare-input")
        await pilot.press(*QUESTION, "enter")
        await wait_for(pilot, lambda: True)
        left, right = (
            screen.query_one("#left", ComparePane),
            screen.query_one("#right", ComparePane),
        )
        assert (left.choice, right.choice) == ("base", "final")
        assert str(right.query_one(".pane-answer").render()) == ANSWER
        assert str(left.query_one(".pane-answer").render()) not in ("", ANSWER)
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: True)
        table = screen.query_one(ProbeTable)
        final_col = list(table.columns).index("final")
        assert table.full_text(type(table.cursor_coordinate)(0, final_col)) == ANSWER
        assert table.full_text(type(table.cursor_coordinate)(0, 1)) != ANSWER  # the base


@pytest.fixture(scope="module")
def snapshot_run(demo_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo run under a fixed name, so the snapshot does not show a timestamp."""
    target = tmp_path_factory.mktemp("snap") / "demo-snapshot"
    shutil.copytree(demo_run, target)
    # the forgetting meter's figures are measured floats: the snapshot shows no card line
    (target / "forgetting.json").unlink()
    events = (target / "events.jsonl").read_text().splitlines(keepends=True)
    kept = [line for line in events if '"type": "forgetting"' not in line]
    (target / "events.jsonl").write_text("".join(kept))
    return target


def test_snapshot_chat(snap_compare, snapshot_run: Path, demo: Path) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await loaded(pilot)
        await ask(pilot, QUESTION)
        await pilot.press("ctrl+b")
        await ask(pilot, "What is the capital of Japan?")

    app = PlaygroundApp(snapshot_run, clock=fixed_clock())
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_snapshot_compare(snap_compare, snapshot_run: Path, demo: Path) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await loaded(pilot)
        await pilot.press("f2")
        await pilot.pause()
        await pilot.click("#compare-input")
        await pilot.press(*"What is the capital of Italy?", "enter")
        await wait_for(pilot, lambda: True)
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: True)
        await pilot.click("#probe-table")
        await pilot.pause()

    app = PlaygroundApp(snapshot_run, clock=fixed_clock())
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


async def test_asks_before_loading_onto_a_gpu_a_live_run_uses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess

    from ftui.core.atomic import atomic_write_json
    from ftui.core.runs.processes import process_start_time
    from ftui.core.spec import RunSpec
    from ftui.tui.widgets.chat.gpu_warning import ConfirmLoad

    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    run = tmp_path / "runs" / "done"  # the question comes before anything is loaded
    run.mkdir(parents=True)
    RunSpec().save(run / "config.yaml")
    busy = tmp_path / "runs" / "training-now"
    busy.mkdir()
    RunSpec.model_validate({"name": "t", "launch": {"gpus": [0]}}).save(busy / "config.yaml")
    sleeper = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        info = {"pid": sleeper.pid, "pid_start_time": process_start_time(sleeper.pid)}
        atomic_write_json(busy / "run.json", info)
        app = PlaygroundApp(run, device="cuda")  # the device the playground would load onto
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmLoad), timeout=60)
            assert "GPU 0 is in use by a live training run (training-now)" in app.screen.warning
            await pilot.click("#cancel")
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, PlaygroundScreen) and screen.session is None
            assert "not loaded" in str(screen.query_one("#load-label").render())
    finally:
        sleeper.kill()
        sleeper.wait()


async def test_a_model_that_cannot_load_says_why(tmp_path: Path) -> None:
    """The load worker's core call raises on a real input (a path that does not exist): the
    screen's one failure handler shows why, and no model is loaded."""
    seen: list[Message] = []
    app = PlaygroundApp(tmp_path / "no-such-run", device="cpu")
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        screen = app.screen
        assert isinstance(screen, PlaygroundScreen)
        await wait_for(
            pilot, lambda: "could not load" in str(screen.query_one("#load-label").render())
        )
        label = str(screen.query_one("#load-label").render())
        assert "no-such-run" in label
        assert screen.session is None
        assert not any(isinstance(m, PlaygroundScreen.ModelLoaded) for m in seen)
        notes = [t for t in screen.query(ChatTurn) if t.text.startswith("Could not load: ")]
        assert notes
