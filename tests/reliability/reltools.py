"""Helpers for the reliability tests (plain functions; the fixtures are in conftest.py)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from conftest import _logs

from ftui.core.runs.events import read_events


def demo_spec(root: Path, *sets: str):  # type: ignore[no-untyped-def]
    from ftui.core.presets import resolve_spec

    return resolve_spec("demo", [f"output.root={root}", *sets])


def wait_for_event(run_dir: Path, pred, timeout: float = 120) -> dict:  # type: ignore[no-untyped-def]
    deadline = time.time() + timeout
    while time.time() < deadline:
        for event in read_events(run_dir):
            if pred(event):
                return event
        time.sleep(0.1)
    raise AssertionError(f"{run_dir}: event not seen in {timeout}s; logs: {_logs(run_dir)}")


def copy_run(run_dir: Path, dest: Path) -> Path:
    """A private copy of a finished run directory (tests never modify shared runs)."""
    shutil.copytree(run_dir, dest, symlinks=True)
    return dest


def wait_for_status_after(run_dir: Path, since: float, timeout: float = 180) -> dict:
    """The first terminal status written after `since` (a resumed run's own end)."""
    from ftui.core.runs.events import TERMINAL_STATUSES

    return wait_for_event(
        run_dir,
        lambda e: (
            e.get("type") == "status"
            and e.get("status") in TERMINAL_STATUSES
            and e.get("t", 0) > since
        ),
        timeout,
    )
