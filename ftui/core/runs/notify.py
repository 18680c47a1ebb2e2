"""Tell the user a run completed, failed or stalled: a desktop notification where available.

The terminal bell is the UI's job (Textual's `App.bell()`, or `terminal_bell()` for plain
commands). `notify-send` is called with an argv list, its output discarded, never waited on.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from typing import TextIO


def desktop_notify(title: str, body: str, urgency: str = "normal") -> bool:
    """Send a desktop notification with notify-send if it is on PATH; True if one was sent."""
    exe = shutil.which("notify-send")
    if exe is None:
        return False
    try:
        subprocess.Popen(
            [exe, "--app-name=ftui", f"--urgency={urgency}", title, body],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError:
        return False
    return True


def terminal_bell(stream: TextIO | None = None) -> None:
    out = stream or sys.stderr
    if out.isatty():
        out.write("\a")
        out.flush()


def run_event_message(name: str, status: str, reason: str = "") -> tuple[str, str, str]:
    """(title, body, urgency) for a run that completed, failed or stalled."""
    if status == "completed":
        return f"ftui: {name} completed", "Training finished.", "normal"
    if status == "stalled":
        return f"ftui: {name} stalled", reason or "No new step for a while.", "critical"
    return f"ftui: {name} {status}", reason or f"The run {status}.", "critical"
