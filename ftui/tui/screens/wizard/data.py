"""Data: where the rows come from, what they look like, and which column plays which role.

The first rows are read in a worker (never the whole dataset), the format is detected, and a
mapping is proposed with its reasons; each role is a choice among the real columns. The
spec's own mapping wins when it has one; a mapping that names a missing column is shown next
to the columns that do exist. A new source (picked or typed) starts from its own detection,
keeping the spec's choices only where their columns exist in it (`carry_mapping`). The
mapping's problem, or None, is posted as `DataMappingChecked` for the step list's ✗.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Button, Static

from ftui.tui.draft import Validation
from ftui.tui.messages import DataMappingChecked, SpecChanged
from ftui.tui.screens.wizard.base import StepScreen
from ftui.tui.widgets.wizard.column_mapper import ColumnMapper
from ftui.tui.widgets.wizard.data_table_preview import DataTablePreview
from ftui.tui.widgets.wizard.spec_form import FieldRow, SpecForm

FIELDS = ["data.source", "data.subset", "data.split"]
MORE_FIELDS = ["data.format", "data.eval_split", "data.max_seq_len", "data.packing"]
SOURCE_KEYS = ("data.source", "data.subset", "data.split")
PREVIEW_ROWS = 20

if TYPE_CHECKING:
    from ftui.core.data.preview import DataInspection


class DataStepScreen(StepScreen):
    STEP_ID = "data"
    CSS_PATH = "../../styles/data.tcss"
    INTRO = (
        "A hub dataset id or a local file/folder (json, jsonl, csv, tsv, parquet, txt). "
        "Only the first rows are read here."
    )

    @dataclass
    class DataInspected(Message):
        """A worker read the first rows: the core `DataInspection`, or the error."""

        key: tuple[Any, ...]
        inspection: DataInspection | None
        error: str | None = None

    @dataclass
    class HubChoicesListed(Message):
        """The subsets and splits of a hub dataset, or why they are unknown."""

        source: str
        subsets: list[str]
        splits: list[str]
        error: str | None = None

    def __init__(self, focus_field: str | None = None) -> None:
        super().__init__(focus_field)
        self.inspection: DataInspection | None = None
        self._key: tuple[Any, ...] | None = None
        self._timer: Any = None
        # The source the spec's mapping was made for: rows read from another one remap it.
        self._mapped_key: tuple[Any, ...] | None = None

    def compose_body(self) -> ComposeResult:
        yield SpecForm(FIELDS, self.values(FIELDS), wide=("data.source",))
        with Horizontal(id="data-actions"):
            yield Button("Browse files…", id="browse-data", compact=True)
            yield Button("Reload rows", id="reload-data", compact=True)
            yield Button("Use the proposed mapping", id="accept-mapping", compact=True)
        yield Static("", id="hub-choices", classes="note")
        yield DataTablePreview(id="data-preview")
        yield Static("", id="detection")
        yield Static("", id="data-problem")
        yield Static("Columns", classes="section-title")
        yield ColumnMapper(mapping=self.value("data.columns") or {}, id="mapper")
        yield Static("Format, evaluation and length", classes="section-title")
        yield SpecForm(MORE_FIELDS, self.values(MORE_FIELDS))

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#accept-mapping").display = False
        self._mapped_key = self.source_key()
        self.inspect_now()

    # --- reading rows -----------------------------------------------------------------------

    def source_key(self) -> tuple[Any, ...]:
        return tuple(self.value(k) for k in SOURCE_KEYS)

    def inspect_now(self) -> None:
        data = self.value("data") or {}
        self._key = self.source_key()
        if not data.get("source"):
            self.query_one(DataTablePreview).fail("Set data.source to see the first rows.")
            return
        self.query_one(DataTablePreview).loading_rows = True
        self.inspect_rows(self._key, data)
        from ftui.core.data.dataset import is_local_source

        hub = not is_local_source(str(data["source"]))
        self.query_one("#hub-choices").display = hub
        if hub:
            self.list_hub_choices(str(data["source"]), data.get("subset"))

    @work(thread=True, exclusive=True, exit_on_error=False, group="hub-choices")
    def list_hub_choices(self, source: str, subset: str | None) -> None:
        from ftui.core.data.preview import hub_choices

        try:
            subsets, splits = hub_choices(source, subset)
        except Exception as exc:
            self.post_message(self.HubChoicesListed(source, [], [], str(exc)))
            return
        self.post_message(self.HubChoicesListed(source, subsets, splits))

    @on(HubChoicesListed)
    def _hub_choices(self, event: HubChoicesListed) -> None:
        if event.source != self.value("data.source"):
            return
        if event.error:
            text = event.error.split(": ", 1)[-1]
        else:
            text = f"subsets: {', '.join(event.subsets) or '-'}   splits: {', '.join(event.splits)}"
        self.query_one("#hub-choices", Static).update(text)

    @work(thread=True, exclusive=True, exit_on_error=False, group="data-inspect")
    def inspect_rows(self, key: tuple[Any, ...], data: dict[str, Any]) -> None:
        from ftui.core.data.preview import inspect_dataset
        from ftui.core.spec import DataSection

        keys = ("source", "subset", "split", "format", "columns")
        try:  # a half-typed field elsewhere in the section must not hide the rows
            section = DataSection(**{k: data[k] for k in keys if k in data})
        except Exception:
            section = DataSection(**{k: data[k] for k in keys[:3] if k in data})
        try:
            result = inspect_dataset(section, n=PREVIEW_ROWS)
        except Exception as exc:  # DataError, or a bad half-typed source: show its line
            self.post_message(self.DataInspected(key, None, str(exc).strip().splitlines()[0]))
            return
        self.post_message(self.DataInspected(key, result))

    @on(DataInspected)
    async def _inspected(self, event: DataInspected) -> None:
        if event.key != self._key:
            return  # the source changed since: a newer read is on its way
        preview = self.query_one(DataTablePreview)
        if event.inspection is None:
            self.inspection = None
            preview.fail(event.error or "cannot read the data")
            await self.query_one(ColumnMapper).set_data([], {})
            self._show_detection(None, None)
            self.post_message(DataMappingChecked(None))  # unknown without rows: not marked
            return
        self.inspection = event.inspection
        if event.key != self._mapped_key and self._carry_mapping(event.inspection):
            return  # the spec changes: validation_changed shows the new mapping
        await self._refresh_mapping(rebuild=True)

    def _carry_mapping(self, ins: DataInspection) -> bool:
        """Rows of a new source: remap the spec for it; True when the spec changes."""
        from ftui.core.data.dataset import carry_mapping
        from ftui.core.spec import DataSection

        self._mapped_key = self.source_key()
        try:
            section = DataSection(**self.value("data"))
        except Exception:  # a half-typed data section: remap when it is whole
            return False
        fmt, columns = carry_mapping(section, ins.preview.columns, ins.preview.rows)
        if (fmt, columns) == (section.format, section.columns):
            return False
        self.post_message(SpecChanged({"data.format": fmt, "data.columns": columns}))
        self._show_field("data.format", fmt)
        return True

    def _show_field(self, path: str, value: Any) -> None:
        for row in self.query(FieldRow):
            if row.path == path:
                row.set_value(value)

    # --- the mapping ------------------------------------------------------------------------

    async def _refresh_mapping(self, rebuild: bool) -> None:
        """Re-resolve the spec's mapping on the rows already read (no I/O) and show it."""
        from ftui.core.data.dataset import DataError, resolve_mapping
        from ftui.core.spec import DataSection

        ins = self.inspection
        if ins is None:
            return
        det, problem = ins.detection, ins.problem
        try:
            det = resolve_mapping(
                DataSection(**self.value("data")), ins.preview.columns, ins.preview.rows
            )
            problem = None
        except DataError as exc:
            det, problem = None, str(exc)
        except Exception:  # a half-typed data section: keep what was shown
            pass
        spec_cols = self.value("data.columns") or {}
        proposal = det.columns if det is not None else spec_cols
        self.query_one(DataTablePreview).show(ins.preview, proposal)
        mapper = self.query_one(ColumnMapper)
        if rebuild or mapper.available != ins.preview.columns or mapper.mapping != proposal:
            await mapper.set_data(
                ins.preview.columns,
                proposal,
                det.reasons if det else [],
                det.ignored if det else [],
            )
        if not self.query("#accept-mapping"):
            return  # the screen was taken down while the mapper was rebuilt
        self.query_one("#accept-mapping").display = bool(det and not spec_cols)
        self._show_detection(det, problem, proposed=not spec_cols)
        self.post_message(DataMappingChecked(problem))

    def _show_detection(self, det: Any, problem: str | None, proposed: bool = False) -> None:
        text = Text()
        if det is not None:
            text.append(f"format: {det.format}", style="bold")
            if det.style:
                text.append(f" ({det.style})")
            if proposed:
                text.append("  proposed from the data: not yet in the spec", style="italic")
            for reason in det.reasons:
                if not reason.startswith("ignored"):  # the mapper lists them
                    text.append(f"\n  {reason}")
        self.query_one("#detection", Static).update(text)
        problem_line = self.query_one("#data-problem", Static)
        problem_line.update(problem or "")
        problem_line.display = bool(problem)

    @on(ColumnMapper.MappingChanged)
    def _mapping_changed(self, event: ColumnMapper.MappingChanged) -> None:
        event.stop()
        self.post_message(SpecChanged({"data.columns": event.columns}))

    @on(Button.Pressed, "#accept-mapping")
    def _accept(self, event: Button.Pressed) -> None:
        event.stop()
        mapper = self.query_one(ColumnMapper)
        if mapper.mapping:
            self.post_message(SpecChanged({"data.columns": dict(mapper.mapping)}))

    @on(Button.Pressed, "#browse-data")
    def _browse(self, event: Button.Pressed) -> None:
        event.stop()
        from pathlib import Path

        from ftui.tui.screens.dialogs.file_picker import DataFilePicker

        current = Path(str(self.value("data.source") or ".")).expanduser()
        start = current.parent if current.is_file() else current if current.is_dir() else "."
        self.app.push_screen(DataFilePicker(start), self._picked)

    def _picked(self, path: str | None) -> None:
        if not path:
            return
        self.post_message(SpecChanged({"data.source": path}))
        self._show_field("data.source", path)

    @on(Button.Pressed, "#reload-data")
    def _reload(self, event: Button.Pressed) -> None:
        event.stop()
        self.inspect_now()

    def validation_changed(self, validation: Validation) -> None:
        if self.source_key() != self._key:
            if self._timer is not None:
                self._timer.stop()
            self._timer = self.set_timer(0.5, self.inspect_now)  # once typing pauses
            return
        self.run_worker(self._refresh_mapping(rebuild=False), exclusive=True, group="data-map")
