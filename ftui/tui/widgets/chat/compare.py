"""Compare view parts: two answer panes side by side, and the probes × checkpoints table."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.coordinate import Coordinate
from textual.message import Message
from textual.widgets import DataTable, Select, Static

from ftui.tui.widgets.chat.log import printable

PROMPT_CHARS, CELL_CHARS = 32, 18  # a prompt + base + three checkpoints fit in 120 columns


class ComparePane(Vertical):
    """Which weights answer on this side (a Select) and their answer."""

    @dataclass
    class WeightsChosen(Message):
        """The user chose which weights answer on `pane`'s side."""

        pane: ComparePane
        choice: str

    def compose(self) -> ComposeResult:
        yield Select([("loading…", "")], allow_blank=False, classes="pane-weights")
        yield Static("", classes="pane-answer")

    @property
    def choice(self) -> str:
        value = self.query_one(Select).value
        return value if isinstance(value, str) else ""

    def set_weights(self, options: list[tuple[str, str]], value: str) -> None:
        select = self.query_one(Select)
        with self.prevent(Select.Changed):
            select.set_options(options)
            select.value = value

    def show(self, text: str, dim: bool = False) -> None:
        self.query_one(".pane-answer", Static).update(
            Text(printable(text), style="dim" if dim else "")
        )

    @on(Select.Changed)
    def _chosen(self, event: Select.Changed) -> None:
        event.stop()
        if isinstance(event.value, str) and event.value:
            self.post_message(self.WeightsChosen(self, event.value))


class ProbeTable(DataTable):
    """Rows: probe prompts; columns: base, then each checkpoint. Cells show the start of an
    answer (green when it is the dataset's answer); `full_text` gives the whole of it."""

    def setup(self, prompts: list[str], columns: list[str]) -> None:
        self.clear(columns=True)
        self._full: dict[tuple[int, int], str] = {}
        self.add_column("prompt", key="prompt")
        for name in columns:
            self.add_column(name, key=name)
        self._columns = ["prompt", *columns]
        for i, prompt in enumerate(prompts):
            self._full[(i, 0)] = prompt
            row = probe_cell(prompt, width=PROMPT_CHARS)
            self.add_row(row, *(["…"] * len(columns)), key=str(i))

    def fill(self, row: int, column: str, text: str, expected: str | None) -> None:
        style = "green" if expected is not None and text == expected else ""
        self._full[(row, self._columns.index(column))] = text
        self.update_cell(str(row), column, probe_cell(text, style), update_width=True)

    def full_text(self, coordinate: Coordinate) -> str:
        return getattr(self, "_full", {}).get((coordinate.row, coordinate.column), "")


def probe_cell(text: str, style: str = "", width: int = CELL_CHARS) -> Text:
    """The start of an answer on one line, at most `width` terminal cells: a CJK character or
    an emoji takes two, so cutting by characters would make the column twice as wide."""
    cell = Text(printable(text).replace("\n", " "), style=style)
    cell.truncate(width, overflow="ellipsis")
    return cell
