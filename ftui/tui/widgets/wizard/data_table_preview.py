"""The first rows of a dataset as a table; each mapped column's header names its role.

DataTablePreview()          .loading = True while a worker reads the rows
.show(preview, mapping)     a core `DataPreview` and the role -> column mapping
.fail(message)              the source could not be read
"""

from __future__ import annotations

import json
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widgets import DataTable, LoadingIndicator, Static

CELL_CHARS = 48


def cell(value: Any) -> str:
    """A value shortened to one line for a table cell."""
    if isinstance(value, (list, dict)):
        text = json.dumps(value, ensure_ascii=False)
    else:
        text = "" if value is None else str(value)
    text = " ".join(text.split())
    return text if len(text) <= CELL_CHARS else text[: CELL_CHARS - 1] + "…"


class DataTablePreview(Vertical):
    loading_rows: reactive[bool] = reactive(False)

    def compose(self) -> ComposeResult:
        yield Static("", id="preview-caption", classes="note")
        yield LoadingIndicator(id="preview-loading")
        table: DataTable[Any] = DataTable(id="preview-table", zebra_stripes=True)
        table.cursor_type = "row"
        yield table

    def watch_loading_rows(self, loading: bool) -> None:
        self.set_class(loading, "-loading")
        if loading and self.query("#preview-caption"):
            self.query_one("#preview-caption", Static).update("Reading the first rows…")

    def show(self, preview: Any, mapping: dict[str, str] | None = None) -> None:
        self.loading_rows = False
        roles = {col: role for role, col in (mapping or {}).items()}
        table = self.query_one("#preview-table", DataTable)
        table.clear(columns=True)
        for col in preview.columns:
            role = roles.get(col)
            label = Text(col, style="bold")
            if role:
                label.append(f" → {role}", style="bold green")
            else:
                label.stylize("dim")
            table.add_column(label, key=col)
        for row in preview.rows:
            table.add_row(*(cell(row.get(c)) for c in preview.columns))
        total = "?" if preview.total_rows is None else f"{preview.total_rows:,}"
        how = "streamed, not loaded whole" if preview.streamed else "loaded"
        self.query_one("#preview-caption", Static).update(
            f"{preview.source}: first {len(preview.rows)} of {total} rows ({how})"
        )

    def fail(self, message: str) -> None:
        self.loading_rows = False
        self.query_one("#preview-table", DataTable).clear(columns=True)
        self.query_one("#preview-caption", Static).update(Text(message, style="bold red"))
