"""The one headless follower: the lines `ftui run` and `ftui monitor --plain` print for a run.

`PlainFollower(run_dir).poll()` returns the lines that are new (the run's history first, then
each event as it lands) and, once the run is over, its exit code; `follow(run_dir, out)` prints
them until then. Every line is made from the events and the run's final state alone, so
following a run live and replaying it afterwards print the same lines; only a live run adds a
stall warning or a note that its processes outlived its final status.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ftui.core.runs.events import TERMINAL_STATUSES, to_float
from ftui.core.runs.forgetting import from_record, summary_line, warning_line
from ftui.core.runs.metrics import RunHistory, format_duration, format_value
from ftui.core.runs.notify import desktop_notify, run_event_message, terminal_bell
from ftui.core.runs.status import STALL_AFTER_S, RunInfo
from ftui.core.runs.watch import RunWatcher, WatchUpdate

FINISHED = (*TERMINAL_STATUSES, "unknown")  # statuses of a run that is over once its process is
EXIT_GRACE_S = 30.0  # how long a run's processes may outlive its final status before we stop


@dataclass
class FollowUpdate:
    lines: list[str] = field(default_factory=list)
    exit_code: int | None = None  # set once the run is over: 0 completed, 1 anything else
    alert: tuple[str, str] | None = None  # (status, reason) worth a bell and a notification


class PlainFollower:
    """Not thread-safe: poll from one thread."""

    def __init__(
        self,
        run_dir: str | os.PathLike[str],
        stall_after_s: float = STALL_AFTER_S,
        exit_grace_s: float = EXIT_GRACE_S,
    ):
        self.run_dir = Path(run_dir)
        self.stall_after_s = stall_after_s
        self.exit_grace_s = exit_grace_s
        self._watcher = RunWatcher(self.run_dir, stall_after_s=stall_after_s, log_lines=1)
        self._history = RunHistory()
        self._attempt_started: float | None = None  # t of the latest "starting" status
        self._final_t: float | None = None  # t of the latest final status
        self._final_seen_at: float | None = None  # monotonic time a live run's final status came
        self._stalled = False
        self._seen_live = False

    def header(self) -> list[str]:
        return [f"run dir: {self.run_dir}"]

    def poll(self) -> FollowUpdate:
        out = FollowUpdate()
        update = self._poll_events(out)
        info = update.info
        self._seen_live = self._seen_live or info.live
        if update.stalled and not self._stalled:
            note = f"no new step for {self.stall_after_s:.0f} s"
            out.lines.append(f"stalled: {note}")
            out.alert = ("stalled", note)
        self._stalled = update.stalled
        if not info.live and info.status in FINISHED:
            # Events written between reading events.jsonl and seeing the process gone (the
            # supervisor's final status, say) are read now: the process can write no more.
            update = self._poll_events(out)
            self._finish(out, update)
        elif info.live and info.status in TERMINAL_STATUSES:
            now = time.monotonic()
            self._final_seen_at = self._final_seen_at or now
            if now - self._final_seen_at > self.exit_grace_s:
                note = (
                    f"its processes still run {self.exit_grace_s:.0f} s after its final status;"
                    f" `ftui stop {self.run_dir} --kill` ends them"
                )
                self._finish(out, update, note)
        return out

    def _poll_events(self, out: FollowUpdate) -> WatchUpdate:
        update = self._watcher.poll()
        for event in update.events:
            line = self._event_line(event)
            if line is not None:
                out.lines.append(line)
        return update

    def _event_line(self, event: dict[str, Any]) -> str | None:
        """One plain line for an event worth printing; None for the rest."""
        self._history.add([event])
        kind, t = event.get("type"), to_float(event.get("t"))
        if kind == "metrics":
            return self._metrics_line(event, t)
        if kind == "status":
            status = event.get("status")
            if status == "starting":
                self._attempt_started = t
            elif status in TERMINAL_STATUSES:
                self._final_t = t
            reason = f": {event['reason']}" if event.get("reason") else ""
            return f"status {status}{reason}"
        if kind == "plan":
            note = f"\n{event['eval_note']}" if event.get("eval_note") else ""
            return (
                f"plan {event.get('total_steps')} steps · {event.get('train_rows', '?')} rows"
                f" · world size {event.get('world_size', '?')}{note}"
            )
        if kind == "eval":
            loss = format_value(to_float(event.get("eval_loss")))
            ppl = format_value(to_float(event.get("perplexity")))
            return f"eval step {event.get('step')} · eval_loss {loss} · perplexity {ppl}"
        if kind == "forgetting":
            reading = from_record(event)
            if reading is None:
                return f"general-text loss: {event.get('skipped', 'not measured')}"
            warning = warning_line(reading)
            return summary_line(reading) + (f"\nwarning: {warning}" if warning else "")
        if kind == "checkpoint":
            return f"checkpoint step {event.get('step')} · {event.get('path')}"
        if kind == "resumed":
            return f"resumed from {event.get('checkpoint')}"
        if kind == "sample":
            return f"sample step {event.get('step')}: {event.get('prompt')!r} → {event.get('output')!r}"
        if kind == "final":
            return f"final weights · {event.get('path')}"
        if kind == "error":
            return f"error {event.get('kind')}: {event.get('message')}"
        return None

    def _metrics_line(self, event: dict[str, Any], t: float | None) -> str:
        total = self._history.plan.get("total_steps")
        parts = [f"step {event.get('step')}/{total or '?'}"]
        for key in ("epoch", "loss", "lr"):
            if key in event:
                parts.append(f"{key} {format_value(to_float(event.get(key)))}")
        if "tokens_per_s" in event:
            parts.append(f"{format_value(to_float(event['tokens_per_s']), 5)} tok/s")
        # The ETA at the time of the event (not of reading it), so a replay prints the same.
        eta = self._history.progress(now=t or 0.0, live=True).eta_s if t is not None else None
        if eta is not None:
            parts.append(f"eta {format_duration(eta)}")
        return " · ".join(parts)

    def _finish(self, out: FollowUpdate, update: WatchUpdate, note: str | None = None) -> None:
        info: RunInfo = update.info
        line = f"run {info.status}"
        if self._attempt_started is not None and self._final_t is not None:
            line += f" after {format_duration(self._final_t - self._attempt_started)}"
        out.lines.append(line + (f": {info.reason}" if info.reason else ""))
        if note is not None:
            out.lines.append(note)
        if update.failure is not None:
            out.lines += [update.failure.message, f"fix: {update.failure.hint}"]
        if info.resumable:
            out.lines.append(f"resume with: ftui resume {self.run_dir}")
        out.lines.append(f"run dir: {self.run_dir}")
        out.exit_code = 0 if info.status == "completed" else 1
        if self._seen_live and info.status != "stopped":  # a stop the user asked for is no news
            out.alert = (info.status, info.reason)


def follow(
    run_dir: str | os.PathLike[str],
    out: TextIO | None = None,
    poll_s: float = 0.5,
    stall_after_s: float = STALL_AFTER_S,
) -> int:
    """Print the run's lines until it is over; its exit code (0 only when it completed).
    A run seen live rings the bell (on a terminal) and notifies the desktop when it ends or
    stalls."""
    stream = out or sys.stdout
    follower = PlainFollower(run_dir, stall_after_s=stall_after_s)
    for line in follower.header():
        print(line, file=stream, flush=True)
    while True:
        update = follower.poll()
        for line in update.lines:
            print(line, file=stream, flush=True)
        if update.alert is not None:
            terminal_bell(stream)
            desktop_notify(*run_event_message(follower.run_dir.name, *update.alert))
        if update.exit_code is not None:
            return update.exit_code
        time.sleep(poll_s)
