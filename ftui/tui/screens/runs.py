"""Every run under a root with its status and reason; Enter opens the monitor on it."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from ftui.core.runs.eval_card import best_marker
from ftui.core.runs.status import RunInfo, list_runs
from ftui.tui.screens.monitor import MonitorScreen
from ftui.tui.widgets.wizard.gpu_panel import HostSample

REFRESH_S = 2.0
COLUMNS = ("run", "status", "step", "best", "started", "reason")


def _status_text(info: RunInfo) -> str:
    if info.live:
        return f"{info.status} (live)"
    if info.resumable:
        return f"{info.status}, resumable"
    return info.status


def _step_text(info: RunInfo) -> str:
    if info.step is None:
        return "-"
    return f"{info.step}/{info.total_steps}" if info.total_steps else str(info.step)


def _time_text(t: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(t)) if t else "-"


class RunsScreen(Screen):
    CSS_PATH = "../styles/monitor.tcss"
    BINDINGS = [
        Binding("enter", "open", "Monitor", show=True),
        Binding("g", "refresh", "Refresh"),
        Binding("q,escape", "leave", "Leave"),
    ]

    @dataclass
    class Listed(Message):
        """Every run under the root, newest first; a burst coalesces to the newest."""

        runs: list[RunInfo]
        best: dict[Path, str]  # run dir -> its best weights by eval loss ("step 8", "final")

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, RunsScreen.Listed)

    def __init__(
        self, root: str | Path, gpu_sampler: Callable[[], HostSample] | None = None
    ) -> None:
        super().__init__()
        self.root = Path(root)
        self.runs: list[RunInfo] = []
        self._gpu_sampler = gpu_sampler

    def compose(self) -> ComposeResult:
        yield Static(f"runs under {self.root}", id="runs-help")
        yield DataTable(cursor_type="row", zebra_stripes=True, id="runs-table")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for column in COLUMNS:
            table.add_column(column, key=column)
        self.action_refresh()
        self.set_interval(REFRESH_S, self.action_refresh)

    def action_refresh(self) -> None:
        self._list()

    @work(thread=True, exclusive=True, exit_on_error=False, group="runs-list")
    def _list(self) -> None:
        runs = list_runs(self.root)
        self.post_message(self.Listed(runs, {r.path: best_marker(r.path) for r in runs}))

    @on(Listed)
    def _listed(self, message: Listed) -> None:
        self.runs = message.runs
        table = self.query_one(DataTable)
        cursor = table.cursor_row
        table.clear()
        for info in message.runs:
            table.add_row(
                info.name,
                _status_text(info),
                _step_text(info),
                message.best.get(info.path, ""),
                _time_text(info.started),
                info.reason[:80],
                key=str(info.path),
            )
        if message.runs:
            table.move_cursor(row=min(cursor, len(message.runs) - 1))
        self.query_one("#runs-help", Static).update(
            f"{len(message.runs)} runs under {self.root}   (enter: monitor)"
            if message.runs
            else f"no runs under {self.root} yet"
        )

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        self._open(Path(str(event.row_key.value)))

    def action_open(self) -> None:
        table = self.query_one(DataTable)
        if self.runs and 0 <= table.cursor_row < len(self.runs):
            self._open(self.runs[table.cursor_row].path)

    def _open(self, run_dir: Path) -> None:
        self.app.push_screen(MonitorScreen(run_dir, gpu_sampler=self._gpu_sampler))

    def action_leave(self) -> None:
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()
        else:
            self.app.exit()
