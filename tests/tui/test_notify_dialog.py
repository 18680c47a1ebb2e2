"""The Notifications dialog (ctrl+o on the Review step): add a json:// URL through a password
Input into the real user config (0600, shown masked), send a test to a real HTTP server on
127.0.0.1 from a thread worker (a hanging service never blocks the UI), remove it; a bad URL and a
missing apprise give one line."""

from __future__ import annotations

import stat
import sys

import pytest
from notify_server import notify_server
from textual.widgets import Input, OptionList, Static

from ftui.core import locations
from ftui.core.runs import notify

from .wizard_helpers import make_app, settle


def _status(app: object) -> str:
    return str(app.screen.query_one("#notify-status", Static).render())  # type: ignore[attr-defined]


def _services(app: object) -> list[str]:
    options = app.screen.query_one("#notify-services", OptionList)  # type: ignore[attr-defined]
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


async def _open(pilot: object) -> None:
    await settle(pilot)
    app = pilot.app  # type: ignore[attr-defined]
    shown = app.screen.active_bindings["ctrl+o"].binding  # what the footer lists
    assert shown.description == "Notify" and shown.show
    await pilot.press("ctrl+o")  # type: ignore[attr-defined]
    await settle(pilot)
    assert app.screen.id == "notify-dialog"


async def test_add_test_remove_through_the_dialog() -> None:
    app = make_app(gpus=0, preset="demo", step="review")
    with notify_server("/ftui-hook") as inbox:
        async with app.run_test(size=(120, 36)) as pilot:
            await _open(pilot)
            assert app.focused is app.screen.query_one("#notify-url", Input)
            assert app.screen.query_one("#notify-url", Input).password
            await pilot.press(*inbox.url, "enter")
            await settle(pilot)
            assert notify.load_settings().urls == (inbox.url,)
            mode = stat.S_IMODE(locations.notify_file().stat().st_mode)
            assert mode == 0o600
            assert app.screen.query_one("#notify-url", Input).value == ""
            (line,) = _services(app)
            assert notify.masked(inbox.url) in line and "JSON" in line
            assert inbox.url not in line and inbox.url not in _status(app)
            assert "Added service 1 (JSON)" in _status(app)

            await pilot.click("#notify-test")
            await settle(pilot)
            (message,) = inbox.wait_for(1)
            assert message["title"] == notify.TEST_TITLE and message["path"] == "/ftui-hook"
            assert _status(app) == "Test delivered to 1 service(s)"

            app.screen.query_one("#notify-services", OptionList).focus()
            await pilot.press("home", "delete")
            await settle(pilot)
            assert notify.load_settings().urls == ()
            assert _status(app) == f"Removed {notify.masked(inbox.url)}"
            assert "no service yet" in _services(app)[0]
            await pilot.press("escape")
            await settle(pilot)
            assert app.screen.id != "notify-dialog"


async def test_a_failing_service_is_named_not_shown() -> None:
    """A service that refuses: the dialog says which one failed, by number and kind."""
    with notify_server() as inbox:
        dead = inbox.url  # the server is shut down when the block ends
    notify.add_url(dead)
    app = make_app(gpus=0, preset="demo", step="review")
    async with app.run_test(size=(120, 36)) as pilot:
        await _open(pilot)
        await pilot.click("#notify-test")
        await settle(pilot)
        assert _status(app) == "Test not delivered: service 1 (JSON): sending failed"


async def test_a_bad_url_is_one_line_without_the_url() -> None:
    app = make_app(gpus=0, preset="demo", step="review")
    secret = "nosuchscheme://s3cr3t-token@example"
    async with app.run_test(size=(120, 36)) as pilot:
        await _open(pilot)
        await pilot.press(*secret, "enter")
        await settle(pilot)
        line = _status(app)
        assert "is not a notification URL apprise knows" in line and "\n" not in line
        assert "s3cr3t" not in line and notify.masked(secret) in line
        assert app.screen.query_one("#notify-status").has_class("-error")
        assert not locations.notify_file().exists()


async def test_without_apprise_the_dialog_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "apprise", None)  # `import apprise` raises ImportError
    app = make_app(gpus=0, preset="demo", step="review")
    async with app.run_test(size=(120, 36)) as pilot:
        await _open(pilot)
        assert _status(app) == f"notifications need apprise: {notify.INSTALL_HINT}"
        assert app.screen.query_one("#notify-url", Input).disabled


async def test_a_hanging_service_does_not_block_the_dialog() -> None:
    """A service that accepts and never answers: the dialog stays live while the test is
    sent in a thread, and says when `send` gave up (timeout_s from the user's notify.yaml)."""
    import socket
    from dataclasses import replace

    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen()
        url = f"json://127.0.0.1:{hung.getsockname()[1]}/"
        notify.add_url(url)
        notify.save_settings(replace(notify.load_settings(), timeout_s=1.0))
        app = make_app(gpus=0, preset="demo", step="review")
        async with app.run_test(size=(120, 36)) as pilot:
            await _open(pilot)
            await pilot.click("#notify-test")
            await pilot.pause()
            assert _status(app) == "Sending a test notification…"
            assert app.screen.query_one("#notify-test").disabled
            await pilot.press("tab")  # the UI handles keys while the worker waits
            await pilot.app.workers.wait_for_complete()
            await pilot.pause()
            assert _status(app) == "Test not delivered: gave up after 1 s"
            assert not app.screen.query_one("#notify-test").disabled
