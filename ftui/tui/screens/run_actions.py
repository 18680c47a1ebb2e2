"""Stop, kill, resume and notifications for a screen that shows one run (`self.run_dir`,
`self.info`). The blocking parts run in thread workers and report back with a message."""

from __future__ import annotations

from pathlib import Path

from textual import work
from textual.message import Message

from ftui.core.runs.notify import desktop_notify, run_event_message
from ftui.core.runs.status import RunInfo

KILL_GRACE_S = 10.0


class RunActionFinished(Message):
    """A stop, kill or resume finished; `text` is what the user is told."""

    def __init__(self, text: str, severity: str = "information", resumed: bool = False) -> None:
        super().__init__()
        self.text = text
        self.severity = severity
        self.resumed = resumed


class RunActions:
    """Mixed into a Screen (before Screen in the bases). Handlers use Textual's naming
    convention because `@on` is only collected from Textual classes."""

    run_dir: Path
    info: RunInfo | None
    _stop_requested: bool = False

    def action_stop(self) -> None:
        if self.info is not None and not self.info.live and self.info.leftover_pids:
            self._end_leftovers(len(self.info.leftover_pids))
            return
        if self.info is None or not self.info.live:
            self.notify("The run is not running: nothing to stop.")  # type: ignore[attr-defined]
            return
        if not self._stop_requested:
            self._stop_requested = True
            from ftui.core.launch.spawn import request_stop

            request_stop(self.run_dir)
            self.notify(  # type: ignore[attr-defined]
                "Asked every rank to save a checkpoint and stop. Press s again to kill it now."
            )
            return
        self.notify("Killing the run's process tree…", severity="warning")  # type: ignore[attr-defined]
        self._kill()

    def _end_leftovers(self, count: int) -> None:
        """The launcher died and left processes behind: the first s says so, the second kills."""
        if not self._stop_requested:
            self._stop_requested = True
            self.notify(  # type: ignore[attr-defined]
                f"The launcher is gone but {count} of the run's processes still run. "
                "Press s again to kill them.",
                severity="warning",
            )
            return
        self._kill_leftovers()

    @work(thread=True, exit_on_error=False, group="run-action")
    def _kill_leftovers(self) -> None:
        from ftui.core.runs.processes import kill_leftovers

        count = kill_leftovers(self.run_dir)
        self.post_message(RunActionFinished(f"Killed {count} processes left behind."))  # type: ignore[attr-defined]

    @work(thread=True, exit_on_error=False, group="run-action")
    def _kill(self) -> None:
        from ftui.core.launch.spawn import kill_run

        done = kill_run(self.run_dir, grace_s=KILL_GRACE_S)
        text = "The run's processes are gone." if done else "The run had already ended."
        self.post_message(RunActionFinished(text))  # type: ignore[attr-defined]

    def action_resume(self) -> None:
        info = self.info
        if info is not None and info.live:
            self.notify("The run is live: nothing to resume.")  # type: ignore[attr-defined]
            return
        if info is not None and not info.resumable:
            self.notify(  # type: ignore[attr-defined]
                "No complete checkpoint to resume from.", severity="warning"
            )
            return
        self._resume()

    @work(thread=True, exit_on_error=False, group="run-action")
    def _resume(self) -> None:
        from ftui.core.launch.spawn import resume

        try:
            resume(self.run_dir)
        except Exception as error:  # the launcher says why it refuses (changed settings, ...)
            self.post_message(RunActionFinished(f"Resume refused: {error}", "error"))  # type: ignore[attr-defined]
            return
        text = "Resumed from the newest complete checkpoint."
        self.post_message(RunActionFinished(text, resumed=True))  # type: ignore[attr-defined]

    def on_run_action_finished(self, message: RunActionFinished) -> None:
        if message.resumed:
            self._stop_requested = False  # a new attempt: the next s asks again before killing
        self.notify(message.text, severity=message.severity)  # type: ignore[attr-defined]

    def notify_run(self, status: str, reason: str) -> None:
        """Terminal bell, a toast, and a desktop notification where one is available."""
        title, body, urgency = run_event_message(self.run_dir.name, status, reason)
        self.app.bell()  # type: ignore[attr-defined]
        severity = "information" if status == "completed" else "error"
        self.notify(body, title=title, severity=severity)  # type: ignore[attr-defined]
        self._desktop(title, body, urgency)

    @work(thread=True, exit_on_error=False, group="notify")
    def _desktop(self, title: str, body: str, urgency: str) -> None:
        desktop_notify(title, body, urgency)
