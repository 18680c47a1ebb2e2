"""Stop, kill, resume and the desktop notification, as an invisible widget of a screen that
shows one run. The screen sets `run_dir` and `info` (attributes down) and calls `stop()`,
`resume()` and `notify_desktop()`; what a stop, kill or resume did is posted as `Told`
(messages up), and the screen shows it. The blocking parts run in thread workers that call
the core and never catch: a worker that raises lands in `_worker_failed`, which tells why."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual import on, work
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.widget import Widget
from textual.worker import Worker, WorkerState

from ftui.core.launch.spawn import kill_run, request_stop, resume
from ftui.core.runs.notify import desktop_notify
from ftui.core.runs.processes import kill_leftovers
from ftui.core.runs.status import RunInfo, resume_refusal
from ftui.tui.loaded import reason

KILL_GRACE_S = 10.0
# What a failed worker of each group is told as (the desktop notification is best effort).
FAILURES = {"run-kill": "Could not kill the run", "run-resume": "Resume refused"}


class RunActions(Widget):
    DEFAULT_CSS = "RunActions { display: none; }"

    @dataclass
    class Told(Message):
        """What the user is told: a stop, kill or resume was asked, done or refused.
        `resumed`: a new attempt started, so the next stop asks again before killing."""

        text: str
        severity: SeverityLevel = "information"
        resumed: bool = False

    def __init__(self, run_dir: Path) -> None:
        super().__init__()
        self.run_dir = run_dir
        self.info: RunInfo | None = None
        self._stop_requested = False

    def _tell(self, text: str, severity: SeverityLevel = "information") -> None:
        self.post_message(self.Told(text, severity))

    def stop(self) -> None:
        """The first stop asks every rank to checkpoint and stop; the second kills."""
        info = self.info
        if info is not None and not info.live and info.leftover_pids:
            self._end_leftovers(len(info.leftover_pids))
            return
        if info is None or not info.live:
            self._tell("The run is not running: nothing to stop.")
            return
        if not self._stop_requested:
            self._stop_requested = True
            request_stop(self.run_dir)
            self._tell(
                "Asked every rank to save a checkpoint and stop. Press s again to kill it now."
            )
            return
        self._tell("Killing the run's process tree…", "warning")
        self._kill()

    def _end_leftovers(self, count: int) -> None:
        """The launcher died and left processes behind: the first s says so, the second kills."""
        if not self._stop_requested:
            self._stop_requested = True
            self._tell(
                f"The launcher is gone but {count} of the run's processes still run. "
                "Press s again to kill them.",
                "warning",
            )
            return
        self._kill_leftovers()

    @work(thread=True, exit_on_error=False, group="run-kill")
    def _kill_leftovers(self) -> None:
        count = kill_leftovers(self.run_dir)
        self._tell(f"Killed {count} processes left behind.")

    @work(thread=True, exit_on_error=False, group="run-kill")
    def _kill(self) -> None:
        done = kill_run(self.run_dir, grace_s=KILL_GRACE_S)
        self._tell("The run's processes are gone." if done else "The run had already ended.")

    def resume(self) -> None:
        refusal = resume_refusal(self.info) if self.info is not None else None
        if refusal:
            self._tell(refusal, "warning")
        else:
            self._resume()

    @work(thread=True, exit_on_error=False, group="run-resume")
    def _resume(self) -> None:
        resume(self.run_dir)  # refuses with why (changed settings, no checkpoint, ...)
        self.post_message(self.Told("Resumed from the newest complete checkpoint.", resumed=True))

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        message = FAILURES.get(event.worker.group)
        if event.state == WorkerState.ERROR and message is not None:
            self._tell(f"{message}: {reason(event.worker.error)}", "error")

    @on(Told)
    def _told(self, message: Told) -> None:
        if message.resumed:
            self._stop_requested = False  # a new attempt: the next s asks again before killing

    @work(thread=True, exit_on_error=False, group="notify")
    def notify_desktop(self, title: str, body: str, urgency: str) -> None:
        """Best effort: without notify-send, or when it fails, the toast is all there is."""
        desktop_notify(title, body, urgency)
