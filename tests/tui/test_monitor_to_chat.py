"""From a finished run's monitor, `c` opens the playground on that run and it answers."""

from __future__ import annotations

import time

import pytest

from ftui.tui.monitor_app import MonitorApp

pytestmark = pytest.mark.slow


async def test_c_opens_the_playground_and_it_answers(demo_run):
    from ftui.tui.screens.playground import PlaygroundScreen

    app = MonitorApp(demo_run)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        await pilot.press("c")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, PlaygroundScreen) and screen.target == demo_run
        deadline = time.monotonic() + 120
        while screen.session is None:
            assert time.monotonic() < deadline, "the model never loaded"
            await pilot.pause(0.05)
        await pilot.click("#chat-input")
        await pilot.press(*"What is the capital of France?", "enter")
        deadline = time.monotonic() + 120
        while screen.turn == 0 or screen.generating:
            assert time.monotonic() < deadline, "no answer"
            await pilot.pause(0.05)
        await app.workers.wait_for_complete()
        from ftui.tui.widgets.chat.log import ChatTurn

        assert list(screen.query(ChatTurn))[-1].text == "The capital of France is Paris."


async def test_the_question_box_has_focus_once_the_model_loads(demo_run):
    from ftui.tui.playground_app import PlaygroundApp

    app = PlaygroundApp(demo_run)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.screen
        deadline = time.monotonic() + 120
        while screen.session is None:
            assert time.monotonic() < deadline, "the model never loaded"
            await pilot.pause(0.05)
        await pilot.pause()
        assert app.focused is not None and app.focused.id == "chat-input"
        await pilot.press(*"What color is snow?", "enter")  # no click: keys alone
        deadline = time.monotonic() + 120
        while screen.turn == 0 or screen.generating:
            assert time.monotonic() < deadline, "no answer"
            await pilot.pause(0.05)
        await app.workers.wait_for_complete()
        from ftui.tui.widgets.chat.log import ChatTurn

        assert list(screen.query(ChatTurn))[-1].text == "Snow is white."
