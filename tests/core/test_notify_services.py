"""`ftui notify add|list|rm|test` through apprise to a real HTTP server on 127.0.0.1; the URLs
stay in the user config (0600), masked whenever shown."""

from __future__ import annotations

import stat
import subprocess
import sys

from conftest import run_ftui
from notify_server import notify_server

from ftui.core import locations
from ftui.core.runs.notify import load_settings, send


def _private(path) -> bool:  # type: ignore[no-untyped-def]
    return stat.S_IMODE(path.stat().st_mode) == 0o600


def test_add_list_test_rm_with_the_url_kept_secret(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("FTUI_HOME", str(tmp_path))
    with notify_server(path="/hook-s3cr3t-token") as inbox:
        added = subprocess.run(
            [sys.executable, "-m", "ftui", "notify", "add"],
            input=inbox.url + "\n",
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert added.returncode == 0, added.stderr
        assert "JSON" in added.stdout and "s3cr3t" not in added.stdout
        assert _private(locations.notify_file())
        assert load_settings().urls == (inbox.url,)
        listed = run_ftui("notify", "list")
        assert listed.returncode == 0 and "1  JSON" in listed.stdout
        assert "s3cr3t" not in listed.stdout + listed.stderr
        tested = run_ftui("notify", "test")
        assert tested.returncode == 0, tested.stderr
        (message,) = inbox.wait_for(1)
        assert message["path"] == "/hook-s3cr3t-token" and message["title"] == "ftui: test"
    removed = run_ftui("notify", "rm", "1")
    assert removed.returncode == 0 and "s3cr3t" not in removed.stdout
    assert load_settings().urls == () and _private(locations.notify_file())


def test_a_url_apprise_does_not_know_is_refused(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("FTUI_HOME", str(tmp_path))
    out = run_ftui("notify", "add", "nosuchservice://abc")
    assert out.returncode == 2 and "not a notification URL apprise knows" in out.stderr
    assert not locations.notify_file().exists()
    assert run_ftui("notify", "test").returncode == 2  # nothing to test


def test_a_dead_service_is_reported_without_its_url(tmp_path, monkeypatch) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    problems = send((f"json://127.0.0.1:{port}/s3cr3t",), "t", "b", timeout_s=10)
    assert problems == ["service 1 (JSON): sending failed"]


def test_a_service_that_never_answers_is_given_up_on(tmp_path) -> None:
    import socket

    with socket.socket() as sock:  # accepts the connection, never answers
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        url = f"json://127.0.0.1:{sock.getsockname()[1]}/x?rto=30"
        problems = send((url,), "t", "b", timeout_s=1)
    assert problems == ["gave up after 1 s"]
