"""The tail of one rank's log in a bounded buffer: rank 0 by default, any log on request.
The split view (every rank at once) is SplitLogView in split_log_view.py.

The parent polls a core LogTail (incremental and bounded) and hands lines down with `append`.
"""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label, Log

MAX_LINES = 500


class LogView(Vertical):
    def __init__(self, max_lines: int = MAX_LINES, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.max_lines = max_lines

    def compose(self) -> ComposeResult:
        yield Label("logs: none yet", id="log-title")
        yield Log(max_lines=self.max_lines, auto_scroll=True, id="log-lines")

    def show_log(self, path: Path | None, lines: list[str]) -> None:
        """Switch to another log file, showing its last lines."""
        name = path.name if path else "none yet"
        self.query_one("#log-title", Label).update(
            f"logs: {name}   (l: next log, v: all ranks side by side)"
        )
        log = self.query_one("#log-lines", Log)
        log.clear()
        log.write_lines(lines[-self.max_lines :])

    def append(self, lines: list[str]) -> None:
        if lines:
            self.query_one("#log-lines", Log).write_lines(lines[-self.max_lines :])
