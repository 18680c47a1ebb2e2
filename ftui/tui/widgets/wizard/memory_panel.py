"""Memory per device (ftui.core.check.memory.estimate_memory) against the chosen GPUs' free memory:
a one-line verdict for the top of the step, and the breakdown."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from ftui.core.units import human_bytes

VERDICT_STYLE = {"fits": "bold green", "tight": "bold yellow", "will not fit": "bold red"}


def gb(n: float) -> str:
    """Every figure in GiB, so the estimate reads straight against the free memory."""
    return human_bytes(n, 2, "GiB")


def verdict_line(estimate: Any, free: int | None, where: str, suggestion: str | None) -> Text:
    text = Text.assemble("Memory per device: ", (gb(estimate.total), "bold"))
    if free is None:
        return text.append(" (free memory unknown)", style="dim")
    verdict = str(estimate.verdict(free))
    text.append(f" of {gb(free)} free ({where}) — ")
    text.append(verdict, style=VERDICT_STYLE.get(verdict, ""))
    if suggestion and verdict != "fits":
        text.append(f"\nTry: {suggestion}", style="yellow")
    return text


class MemoryPanel(Static):
    def show(self, estimate: Any, error: str | None = None) -> None:
        if estimate is None:
            self.update(Text(f"Memory estimate: not available ({error})", style="dim"))
            return
        table = Table.grid(padding=(0, 2))
        table.add_column(style="dim")
        table.add_column(justify="right")
        for name, size in estimate.breakdown():
            table.add_row(name, gb(size))
        table.add_row(
            Text("total per device", style="bold"), Text(gb(estimate.total), style="bold")
        )
        self.update(table)
