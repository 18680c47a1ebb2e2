"""The most recent runs with their status (from ftui.core.runs.status.list_runs), newest first."""

from __future__ import annotations

import time
from typing import Any

from textual.widgets import DataTable

STATUS_STYLE = {
    "running": "bold green",
    "starting": "green",
    "completed": "cyan",
    "stopped": "yellow",
    "stopping": "yellow",
    "failed": "bold red",
}


def _ago(t: float | None) -> str:
    if not t:
        return ""
    s = max(0, int(time.time() - t))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if s >= size:
            return f"{s // size}{unit} ago"
    return f"{s}s ago"


class RunsTable(DataTable[Any]):
    """Rows keyed by run dir path; the parent sets `runs` through `show`."""

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.add_columns("run", "status", "progress", "started", "reason")

    def show(self, runs: list[Any], limit: int = 8) -> None:
        from rich.text import Text

        self.clear()
        ordered = sorted(runs, key=lambda r: getattr(r, "started", 0) or 0, reverse=True)
        for run in ordered[:limit]:
            status = str(getattr(run, "status", "unknown"))
            step, total = getattr(run, "step", None), getattr(run, "total_steps", None)
            progress = f"{step}/{total}" if step is not None and total else ""
            self.add_row(
                str(getattr(run, "name", run)),
                Text(status, style=STATUS_STYLE.get(status, "dim")),
                progress,
                _ago(getattr(run, "started", None)),
                str(getattr(run, "reason", "") or "")[:40],
                key=str(getattr(run, "path", run)),
            )
