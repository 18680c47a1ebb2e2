"""The playground's keys do what its footer says, wherever it is opened from (the wizard, the
monitor, `ftui chat`), and long work shows how far it is. On the session's real demo run."""

from __future__ import annotations

from pathlib import Path

import pytest
from playground_helpers import wait_for
from textual import events
from textual.message import Message
from textual.widgets import Static
from tui.fake_nvml import FakeNvml

from ftui.tui.app import FtuiApp
from ftui.tui.monitor_app import MonitorApp
from ftui.tui.playground_app import PlaygroundApp
from ftui.tui.screens.monitor import MonitorScreen
from ftui.tui.screens.playground import PlaygroundScreen

SIZE = (120, 36)

pytestmark = pytest.mark.slow


def footer_keys(screen) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """What the footer offers: key -> description of every shown, enabled binding."""
    return {
        key: active.binding.description
        for key, active in screen.active_bindings.items()
        if active.binding.show and active.enabled
    }


def probe_answers(messages: list[Message]) -> int:
    return len({id(m) for m in messages if isinstance(m, PlaygroundScreen.ProbeAnswered)})


async def test_ctrl_r_runs_the_probes_in_the_wizard_and_its_keys_stay_on_its_steps(
    demo: Path, tmp_path: Path
) -> None:
    messages: list[Message] = []
    app = FtuiApp(nvml=FakeNvml(0), runs_root=demo.parent)
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await pilot.pause()
        assert "ctrl+n" in footer_keys(app.screen)  # a wizard step: its keys are there
        screen = PlaygroundScreen(demo)
        app.push_screen(screen)
        await wait_for(pilot, lambda: screen.session is not None)
        keys = footer_keys(screen)
        assert not {"ctrl+n", "ctrl+p", "ctrl+s"} & set(keys), keys
        assert keys["ctrl+r"] == "Run probes" and keys["escape"] == "Back"
        await pilot.press("f2", "ctrl+r")
        await wait_for(pilot, lambda: True)
        assert app.screen is screen  # not the Runs list
        cells = len(screen.probes) * (1 + len(screen.sources))
        assert cells and probe_answers(messages) == cells
        status = str(screen.query_one("#probe-status", Static).render())
        assert status == f"Probes: all {cells} answers in"
        await pilot.press("escape")  # back to the wizard's step
        assert app.screen is not screen and "ctrl+n" in footer_keys(app.screen)


async def test_ctrl_r_before_the_model_loads_says_so_and_runs_them_once_loaded(
    demo: Path,
) -> None:
    messages: list[Message] = []
    app = PlaygroundApp(demo)
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        screen = app.screen
        assert isinstance(screen, PlaygroundScreen)
        # At once (pilot.press waits for idle): loading the weights takes far longer.
        app.post_message(events.Key("ctrl+r", None))
        await pilot.pause()
        said = [n.message for n in app._notifications]
        assert any("still loading" in line and "once it is" in line for line in said), said
        await wait_for(pilot, lambda: screen.session is not None and probe_answers(messages) > 0)
        cells = len(screen.probes) * (1 + len(screen.sources))
        assert probe_answers(messages) == cells
        assert str(screen.query_one("#probe-status", Static).render()).endswith("answers in")


async def test_esc_goes_back_to_the_monitor_and_leaves_ftui_chat(demo: Path) -> None:
    app = MonitorApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("c")
        screen = app.screen
        assert isinstance(screen, PlaygroundScreen)
        await wait_for(pilot, lambda: screen.session is not None)
        await pilot.click("#chat-input")
        await pilot.press("q")  # q is a letter in the question, not a leave key
        assert app.screen is screen and footer_keys(screen)["escape"] == "Back"
        await pilot.press("escape")
        assert isinstance(app.screen, MonitorScreen)
    chat = PlaygroundApp(demo)
    async with chat.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: chat.screen.session is not None)
        await pilot.press("escape")
        await pilot.pause()
        assert chat.return_code == 0 and not chat.is_running


async def test_the_header_names_the_weights_that_answer(demo: Path) -> None:
    app = PlaygroundApp(demo, base=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await wait_for(pilot, lambda: screen.session is not None)
        title = str(screen.query_one("#pg-title", Static).render())
        assert "base model (adapter off)" in title and "final/" not in title
        await pilot.press("ctrl+b")
        assert "adapter from final/" in str(screen.query_one("#pg-title", Static).render())
