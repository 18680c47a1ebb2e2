"""Every GPU with its memory, load and driver; space or enter (or a click) toggles its use."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from ftui.core.units import GiB


class GpuTable(DataTable[Any]):
    """The parent sets the GPUs and the selection with `show(gpus, selected)`."""

    BINDINGS = [Binding("space", "toggle", "Use / skip GPU")]

    @dataclass
    class SelectionChanged(Message):
        indices: list[int]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.gpus: list[Any] = []
        self.selected: set[int] = set()

    def on_mount(self) -> None:
        self.add_column("use", key="use")
        for label in (
            "#",
            "name",
            "free GiB",
            "total GiB",
            "util %",
            "temp",
            "procs",
            "driver / CUDA",
        ):
            self.add_column(label)

    def show(self, gpus: list[Any], selected: set[int]) -> None:
        self.gpus, self.selected = gpus, set(selected)
        self.clear()
        for g in gpus:
            self.add_row(
                self._mark(g.index),
                str(g.index),
                g.name,
                f"{g.memory_free / GiB:.1f}",  # the columns' headers name the unit
                f"{g.memory_total / GiB:.1f}",
                "" if g.utilization is None else str(g.utilization),
                "" if g.temperature is None else f"{g.temperature}°C",
                str(g.processes),
                f"{g.driver or '?'} / {g.cuda or '-'}",
                key=str(g.index),
            )

    def _mark(self, index: int) -> Text:
        return Text("[x]", style="bold green") if index in self.selected else Text("[ ]")

    def action_toggle(self) -> None:
        if not self.gpus:
            return
        index = self.gpus[self.cursor_row].index
        self.selected ^= {index}
        self.update_cell(str(index), "use", self._mark(index))
        self.post_message(self.SelectionChanged(sorted(self.selected)))

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_toggle()
