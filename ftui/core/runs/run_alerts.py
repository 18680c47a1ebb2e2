"""What a run's configured notification services hear, decided in the run's supervisor.

`RunAlerts.poll()` reads what is new in events.jsonl and returns the alerts due: completed,
failed (with the failure's kind and fix), stopped, a non-finite loss (at once, before the run
fails on it), stalled (no new step for stall_factor x the median step time and at least
stall_min_s) and recovered (the next step after a stall). Each is one line: the run, what
happened, step/total, last loss, eval loss, elapsed time and the command to reattach.

`start()` polls in a daemon thread and sends (notify.send: timeout, never raises); `close()`,
called once the training process has exited and its final status is written, sends what is
left. With no URL configured nothing runs at all. A problem is logged to the supervisor's log
(its stdout), never raised: a notification can never affect the run.
"""

from __future__ import annotations

import math
import statistics
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ftui.core.runs.events import TERMINAL_STATUSES, EventTail, to_float
from ftui.core.runs.failures import diagnose
from ftui.core.runs.metrics import format_duration, format_value
from ftui.core.runs.notify import NotifyError, NotifySettings, load_settings, send

POLL_S = 1.0


@dataclass(frozen=True)
class Alert:
    kind: str  # completed, failed, stopped, nonfinite_loss, stalled, recovered
    title: str
    line: str


class RunAlerts:
    """Not thread-safe: poll() from one thread (the one start() runs, or the caller's)."""

    def __init__(
        self, run_dir: Path, settings: NotifySettings, clock: Callable[[], float] = time.time
    ):
        self.run_dir = Path(run_dir)
        self.settings = settings
        self._clock = clock
        self._tail = EventTail(self.run_dir)
        self._status = ""
        self._total: int | None = None
        self._step: int | None = None
        self._loss: float | None = None
        self._eval: float | None = None
        self._first_t: float | None = None
        self._progress_t: float | None = None
        self._steps: deque[tuple[float, int]] = deque(maxlen=2)
        self._step_times: deque[float] = deque(maxlen=200)
        self._events: list[dict[str, Any]] = []  # error and status events, for the diagnosis
        self._stalled = False
        self._nonfinite = False
        self._final = False
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._read()  # a resumed run's history is read, never announced again
        self._status = "" if self._status in TERMINAL_STATUSES else self._status

    @classmethod
    def for_run(cls, run_dir: Path) -> RunAlerts | None:
        """The alerts of a run under the user's settings; None when no URL is configured."""
        try:
            settings = load_settings()
        except NotifyError as exc:
            _log(f"not sending notifications: {exc}")
            return None
        return cls(run_dir, settings) if settings.urls else None

    def stall_after_s(self) -> float:
        median = statistics.median(self._step_times) if self._step_times else 0.0
        return max(self.settings.stall_min_s, self.settings.stall_factor * median)

    def poll(self) -> list[Alert]:
        alerts: list[Alert] = []
        for event in self._read():
            kind = event.get("type")
            if kind == "metrics":
                if self._stalled:
                    self._stalled = False
                    alerts.append(self._alert("recovered", f"recovered at step {self._step}"))
                if self._loss is not None and not math.isfinite(self._loss) and not self._nonfinite:
                    self._nonfinite = True
                    alerts.append(
                        self._alert("nonfinite_loss", f"non-finite loss at step {self._step}")
                    )
            elif kind == "status" and event.get("status") in TERMINAL_STATUSES and not self._final:
                self._final = True
                alerts.append(self._final_alert(str(event["status"])))
        now = self._clock()
        if (
            self._status == "running"
            and not self._stalled
            and self._progress_t is not None
            and now - self._progress_t > self.stall_after_s()
        ):
            self._stalled = True
            quiet = format_duration(now - self._progress_t)
            alerts.append(self._alert("stalled", f"stalled: no new step for {quiet}"))
        return alerts

    def _read(self) -> list[dict[str, Any]]:
        events = self._tail.poll()
        for event in events:
            t = to_float(event.get("t"))
            self._first_t = self._first_t if self._first_t is not None else t
            kind = event.get("type")
            if kind == "plan" and isinstance(event.get("total_steps"), int):
                self._total = event["total_steps"]
            elif kind == "metrics" and isinstance(event.get("step"), int):
                step = event["step"]
                if self._steps and t is not None and step > self._steps[-1][1]:
                    t0, s0 = self._steps[-1]
                    self._step_times.append((t - t0) / (step - s0))
                if t is not None:
                    self._steps.append((t, step))
                self._step, self._loss, self._progress_t = step, to_float(event.get("loss")), t
            elif kind == "eval":
                self._eval, self._progress_t = to_float(event.get("eval_loss")), t
            elif kind in ("checkpoint", "sample", "final"):
                self._progress_t = t  # a long eval, save or the end's samples is not a stall
            elif kind in ("status", "error"):
                self._events.append(event)
                if kind == "status":
                    self._status = str(event.get("status") or "")
                    if self._status in ("starting", "running"):
                        self._progress_t, self._steps = t, deque(maxlen=2)
        return events

    def _final_alert(self, status: str) -> Alert:
        if status != "failed":
            return self._alert(status, status)
        failure = diagnose(self._events, self.run_dir, failed=True)
        if failure is None:
            return self._alert("failed", "failed")
        return self._alert("failed", f"failed ({failure.kind}: {failure.message})", failure.hint)

    def _alert(self, kind: str, what: str, fix: str = "") -> Alert:
        total = f"/{self._total}" if self._total is not None else ""
        step = f"step {self._step if self._step is not None else 0}{total}"
        elapsed = format_duration(self._clock() - self._first_t) if self._first_t else "-"
        parts = [
            f"{self.run_dir.name} {what}",
            step,
            f"loss {format_value(self._loss)}",
            f"eval loss {format_value(self._eval)}",
            f"elapsed {elapsed}",
        ]
        if fix:
            parts.append(f"fix: {fix}")
        parts.append(f"reattach: ftui monitor {self.run_dir}")
        return Alert(kind, f"ftui: {self.run_dir.name} {kind.replace('_', ' ')}", " · ".join(parts))

    def deliver(self, alerts: list[Alert]) -> None:
        for alert in alerts:
            for problem in send(
                self.settings.urls, alert.title, alert.line, self.settings.timeout_s
            ):
                _log(f"{alert.kind} notification not delivered: {problem}")

    def _loop(self) -> None:
        while not self._stop.wait(POLL_S):
            self._safely(lambda: self.deliver(self.poll()))

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="ftui-alerts", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop polling; send what the final events call for (the final status, once)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.settings.timeout_s + POLL_S)
        self._safely(lambda: self.deliver(self.poll()))

    def _safely(self, step: Callable[[], None]) -> None:
        try:
            step()
        except Exception as exc:  # whatever goes wrong here, the run goes on
            _log(f"notifications: {type(exc).__name__}: {exc}")


def _log(text: str) -> None:
    print(f"ftui notify: {text}", flush=True)


def start_run_alerts(run_dir: Path) -> RunAlerts | None:
    """For the supervisor: start watching the run when notifications are configured."""
    try:
        alerts = RunAlerts.for_run(run_dir)
        if alerts is not None:
            alerts.start()
        return alerts
    except Exception as exc:  # never let a notification stop a launch
        _log(f"notifications off for this run: {type(exc).__name__}: {exc}")
        return None
