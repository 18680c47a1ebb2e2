"""Quitting quits: a worker thread still busy (a model load cannot be interrupted) does not
hold the process after the app has ended."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = """
import threading
from textual import work
from textual.app import App
from ftui.tui.run_app import run_until_quit

never = threading.Event()

class Busy(App):
    def on_mount(self):
        self.stuck()
        self.set_timer(0.2, self.exit)

    @work(thread=True)
    def stuck(self):
        never.wait()  # as a from_pretrained that takes minutes

run_until_quit(Busy())
print("quit")
"""


def run_app_script(script: Path, text: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run an app script in its own Python (a terminal app ends its process as run_until_quit
    does): its exit is what the tests check, within a timeout."""
    script.write_text(text)
    return subprocess.run(
        [sys.executable, str(script), *args],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        env={"TERM": "xterm-256color", "PYTHONPATH": str(Path(__file__).parents[2])},
    )


def test_a_busy_worker_thread_does_not_hold_the_quit(tmp_path: Path) -> None:
    # Before, the process waited for the thread forever (here: until the timeout).
    proc = run_app_script(tmp_path / "busy_app.py", SCRIPT)
    assert proc.returncode == 0, proc.stderr


LAUNCHING = """
import sys, threading, time
from pathlib import Path
from textual import work
from textual.app import App
from ftui.core.launch.critical import must_finish
from ftui.tui.run_app import run_until_quit

entered = threading.Event()

class Launching(App):
    def on_mount(self):
        self.launch()
        self.set_interval(0.05, self.quit_once_launching)

    def quit_once_launching(self):
        if entered.is_set():
            self.exit()

    @work(thread=True)
    def launch(self):
        with must_finish():  # as a launch between Popen and writing the pid into run.json
            entered.set()
            time.sleep(1.5)
            Path(sys.argv[1]).write_text("pid recorded")
        threading.Event().wait()  # then busy for good: the quit does not wait for this

run_until_quit(Launching())
"""


def test_a_quit_waits_for_a_launch_to_record_its_pid(tmp_path: Path) -> None:
    marker = tmp_path / "run.json"
    # Before, the process ended at once and the marker (the pid in run.json) was never written.
    proc = run_app_script(tmp_path / "launching_app.py", LAUNCHING, str(marker))
    assert proc.returncode == 0, proc.stderr
    assert marker.read_text() == "pid recorded"
