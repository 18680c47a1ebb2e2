"""Desktop notifications go through notify-send (argv list) when it is on PATH."""

from __future__ import annotations

import os
import time
from pathlib import Path

from ftui.core.runs.notify import desktop_notify, run_event_message


def test_notify_send_gets_title_and_body_as_separate_arguments(tmp_path: Path, monkeypatch) -> None:
    record = tmp_path / "argv.txt"
    exe = tmp_path / "notify-send"
    exe.write_text(f'#!/bin/sh\nfor a in "$@"; do echo "$a"; done > {record}\n')
    exe.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    title, body, urgency = run_event_message("demo-1", "failed", "out of memory; rm -rf ~")
    assert desktop_notify(title, body, urgency)
    deadline = time.monotonic() + 10
    while not record.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    lines = record.read_text().splitlines()
    assert lines[-2:] == ["ftui: demo-1 failed", "out of memory; rm -rf ~"]
    assert "--urgency=critical" in lines


def test_no_notify_send_means_no_notification(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert not desktop_notify("t", "b")
