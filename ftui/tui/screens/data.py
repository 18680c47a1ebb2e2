"""Data (basic): where the rows come from and which column plays which role.

The data step issue replaces the column picker's typed names with the dataset's real columns
(`ColumnPicker(available=...)`), adds a preview and format detection.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.widgets import Static

from ftui.tui.draft import Validation
from ftui.tui.messages import SpecChanged
from ftui.tui.screens.base import StepScreen
from ftui.tui.widgets.column_picker import ColumnPicker
from ftui.tui.widgets.spec_form import SpecForm

FIELDS = [
    "data.source",
    "data.subset",
    "data.split",
    "data.eval_split",
    "data.format",
    "data.max_seq_len",
    "data.packing",
]


class DataScreen(StepScreen):
    STEP_ID = "data"
    INTRO = "A hub dataset id or a local file/folder (json, jsonl, csv, tsv, parquet, txt)."

    def compose_body(self) -> ComposeResult:
        yield SpecForm(FIELDS, self.values(FIELDS))
        yield Static("Columns (empty = detect from the data)", classes="section-title")
        yield ColumnPicker(self.value("data.columns") or {}, id="columns")
        yield Static("", id="columns-error", classes="field-error")

    @on(ColumnPicker.MappingChanged)
    def _mapping_changed(self, event: ColumnPicker.MappingChanged) -> None:
        event.stop()
        self.post_message(SpecChanged({"data.columns": event.columns}))

    def validation_changed(self, validation: Validation) -> None:
        errors = validation.errors_for("data.columns")
        error = self.query_one("#columns-error", Static)
        error.update("\n".join(errors))
        error.display = bool(errors)
        self.query_one(ColumnPicker).set_class(bool(errors), "-invalid")
