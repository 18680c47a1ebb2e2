"""Every rank's log side by side: a title line ('ranks 0–3 of 8') and one column per visible log.

The parent polls a core SplitTails (through RunWatcher, in its thread worker) and hands each
SplitUpdate down with `show`. Columns are built once (MAX_COLUMNS of them) and reused: a page
with fewer logs hides the rest. Log lines are plain text, never markup.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Label, Log

from ftui.core.runs.split_logs import MAX_COLUMNS, SplitColumn, SplitUpdate

MAX_LINES = 500


class RankLogColumn(Vertical):
    """One rank's log: its title (red when the last lines hold a traceback or error) and tail."""

    def __init__(self, max_lines: int = MAX_LINES, *, classes: str | None = None) -> None:
        super().__init__(classes=classes)
        self.max_lines = max_lines
        self.title = ""
        self.error = False

    def compose(self) -> ComposeResult:
        yield Label("", markup=False, classes="rank-title")
        yield Log(max_lines=self.max_lines, auto_scroll=True, classes="rank-lines")

    def show(self, column: SplitColumn) -> None:
        self.title, self.error = column.title, column.error
        label = self.query_one(".rank-title", Label)
        label.update(f"{column.title}  ✗ error" if column.error else column.title)
        label.set_class(column.error, "-error")
        log = self.query_one(Log)
        if column.reset:
            log.clear()
        if column.lines:
            log.write_lines(column.lines[-self.max_lines :])


class SplitLogView(Vertical):
    def __init__(self, max_lines: int = MAX_LINES, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.max_lines = max_lines

    def compose(self) -> ComposeResult:
        yield Label("ranks: none yet", markup=False, id="split-title")
        with Horizontal(id="split-columns"):
            for _ in range(MAX_COLUMNS):
                yield RankLogColumn(self.max_lines, classes="rank-column")

    def show(self, update: SplitUpdate) -> None:
        page = update.page
        keys = "l: next ranks, v: single log" if page.pages > 1 else "v: single log"
        self.query_one("#split-title", Label).update(f"{page.title}   ({keys})")
        for index, column in enumerate(self.query(RankLogColumn)):
            column.display = index < len(update.columns)
            if column.display:
                column.show(update.columns[index])

    @property
    def columns(self) -> list[RankLogColumn]:
        """The columns shown now, left to right."""
        return [c for c in self.query(RankLogColumn) if c.display]
