"""Follow one run: each `poll()` returns what is new (events, log lines) and the current status.

Used by the monitor screen (inside a thread worker) and by the headless follower (follow.py).
Every read is incremental: events.jsonl and the chosen log are read from where the last poll
stopped. In split mode (`show_split`) every visible rank log has its own incremental tail instead of the one log.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ftui.core.runs.events import EventTail
from ftui.core.runs.failures import Failure, diagnose
from ftui.core.runs.logtail import LogTail, rank_logs
from ftui.core.runs.rundir import RunPaths
from ftui.core.runs.split_logs import SplitTails, SplitUpdate, split_logs, split_page
from ftui.core.runs.status import STALL_AFTER_S, RunInfo, fold_summary, is_stalled, run_status


@dataclass
class WatchUpdate:
    events: list[dict[str, Any]]
    info: RunInfo
    failure: Failure | None
    stalled: bool
    log_path: Path | None = None
    log_lines: list[str] = field(default_factory=list)
    log_reset: bool = False  # True: log_lines replace what was shown (another log was chosen)
    split: SplitUpdate | None = None  # in split mode: the visible rank logs' columns


class RunWatcher:
    """Not thread-safe: poll from one thread at a time. `choose_log`, `show_split` and
    `show_single` may be called any time (from the UI thread): they only set what to show."""

    def __init__(
        self,
        run_dir: str | os.PathLike[str],
        stall_after_s: float = STALL_AFTER_S,
        log_lines: int = 500,
    ):
        self.run_dir = Path(run_dir)
        self.stall_after_s = stall_after_s
        self._log_lines = log_lines
        self._events = EventTail(self.run_dir)
        self._summary: dict[str, Any] = {}
        self._progress: dict[str, Any] = {}  # the latest metrics / running-status event
        self._failure_key: tuple[Any, ...] | None = None
        self._failure: Failure | None = None
        self._log: LogTail | None = None
        self.wanted_log: Path | None = None
        self.wanted_split: tuple[int, int] | None = None  # (page, columns); None: one log
        self._split = SplitTails(max_lines=log_lines)

    def logs(self) -> list[Path]:
        return rank_logs(self.run_dir)

    def choose_log(self, path: Path) -> None:
        self.wanted_log = path

    def show_split(self, page: int, columns: int) -> None:
        """Show every rank log side by side, `columns` at a time, from page `page` (wraps)."""
        self.wanted_split = (page, columns)

    def show_single(self) -> None:
        self.wanted_split = None

    def next_log(self, current: Path | None) -> Path | None:
        logs = self.logs()
        if not logs:
            return None
        index = logs.index(current) + 1 if current in logs else 0
        return logs[index % len(logs)]

    def poll(self, now: float | None = None) -> WatchUpdate:
        events = self._events.poll()
        fold_summary(self._summary, events)
        for event in events:
            if event.get("type") == "metrics" or (
                event.get("type") == "status" and event.get("status") == "running"
            ):
                self._progress = event
        info = run_status(self.run_dir, summary=self._summary)
        stalled = is_stalled(
            info,
            [self._progress] if self._progress else [],
            time.time() if now is None else now,
            self.stall_after_s,
        )
        update = WatchUpdate(events, info, self._diagnose(info), stalled)
        self._poll_log(update)
        return update

    def _diagnose(self, info: RunInfo) -> Failure | None:
        error, status = self._summary.get("error"), self._summary.get("status")
        key = (info.status, id(error), id(status))
        if key != self._failure_key:  # reading logs for a diagnosis happens once per change
            self._failure_key = key
            known = [e for e in (error, status) if e]
            self._failure = (
                diagnose(known, self.run_dir, failed=info.status == "failed")
                if error or info.status == "failed"
                else None
            )
        return self._failure

    def _poll_log(self, update: WatchUpdate) -> None:
        split = self.wanted_split
        if split is not None:
            self._log = None  # back in the single view, the log is shown again from its tail
            update.split = self._split.poll(split_page(split_logs(self.run_dir), *split))
            return
        self._split.clear()
        wanted = self.wanted_log
        if wanted is None:
            logs = self.logs()
            rank0 = RunPaths(self.run_dir).rank_log(0)
            wanted = next((p for p in logs if p == rank0), logs[0] if logs else None)
        if wanted is None:
            return
        if self._log is None or self._log.path != wanted:
            self._log = LogTail(wanted, max_lines=self._log_lines)
            update.log_reset = True
        update.log_path = wanted
        update.log_lines = self._log.poll()
