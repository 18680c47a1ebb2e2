"""events.jsonl: one JSON object a line, flushed per line, written by rank 0 only.

Types: status, plan, metrics, eval, checkpoint, sample, error. Every event has "t" (wall time).
The reader tails the file incrementally and never holds more than one partial line.
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import Any

from ftui.core.runs.rundir import RunPaths

TERMINAL_STATUSES = ("completed", "stopped", "failed")
MAX_LINE = 1 << 20  # a longer line is skipped, not buffered without bound


def _clean(value: Any) -> Any:
    """JSON has no NaN: write non-finite floats as strings so they are never read back as 0."""
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def to_float(value: Any) -> float | None:
    """Read a metric back: numbers and the strings 'nan'/'inf' become floats, anything else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and value in ("nan", "inf", "-inf"):
        return float(value)
    return None


class EventWriter:
    """Append-only; each event is one write() of one line, flushed at once."""

    def __init__(self, run_dir: str | os.PathLike[str]):
        self.path = RunPaths(Path(run_dir)).events
        self._fh = open(self.path, "a", encoding="utf-8", buffering=1)

    def emit(self, type_: str, **fields: Any) -> dict[str, Any]:
        event = {"t": round(time.time(), 3), "type": type_, **_clean(fields)}
        self._fh.write(json.dumps(event, separators=(", ", ": ")) + "\n")
        self._fh.flush()
        return event

    def status(self, status: str, **fields: Any) -> dict[str, Any]:
        return self.emit("status", status=status, **fields)

    def close(self) -> None:
        self._fh.close()


def append_event(run_dir: str | os.PathLike[str], type_: str, **fields: Any) -> dict[str, Any]:
    writer = EventWriter(run_dir)
    try:
        return writer.emit(type_, **fields)
    finally:
        writer.close()


class EventTail:
    """Incremental reader: `poll()` returns the events appended since the last call.

    Survives a file that does not exist yet, a partial last line, and truncation.
    """

    def __init__(self, run_dir: str | os.PathLike[str]):
        self.path = RunPaths(Path(run_dir)).events
        self._offset = 0
        self._partial = b""
        self._skipping = False

    def poll(self) -> list[dict[str, Any]]:
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return []
        if size < self._offset:  # truncated or replaced: start again
            self._offset, self._partial, self._skipping = 0, b"", False
        if size == self._offset:
            return []
        events: list[dict[str, Any]] = []
        with open(self.path, "rb") as fh:
            fh.seek(self._offset)
            while True:
                chunk = fh.read(1 << 16)
                if not chunk:
                    break
                self._offset += len(chunk)
                lines = (self._partial + chunk).split(b"\n")
                self._partial = lines.pop()
                for line in lines:
                    if self._skipping:
                        self._skipping = False
                        continue
                    event = _parse(line)
                    if event is not None:
                        events.append(event)
                if len(self._partial) > MAX_LINE:
                    self._partial, self._skipping = b"", True
        return events


def _parse(line: bytes) -> dict[str, Any] | None:
    line = line.strip()
    if not line:
        return None
    try:
        event = json.loads(line)
    except (ValueError, RecursionError):  # a line nested 100,000 deep is not an event
        return None
    return event if isinstance(event, dict) and "type" in event else None


def read_events(run_dir: str | os.PathLike[str]) -> list[dict[str, Any]]:
    return EventTail(run_dir).poll()


def last_status(events: list[dict[str, Any]]) -> dict[str, Any] | None:
    for event in reversed(events):
        if event.get("type") == "status":
            return event
    return None
