"""Memory per GPU (from ftui.core.memory.estimate_memory) against the chosen GPUs' free memory."""

from __future__ import annotations

import dataclasses
from typing import Any

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

VERDICT_STYLE = {"fits": "bold green", "tight": "bold yellow", "will not fit": "bold red"}


def gb(n: float) -> str:
    return f"{n / 1024**3:.2f} GiB"


def estimate_parts(estimate: Any) -> list[tuple[str, int]]:
    """The named byte counts an estimate is made of (a `parts` mapping, or its int fields)."""
    parts = getattr(estimate, "parts", None)
    if callable(parts):
        parts = parts()
    if isinstance(parts, dict):
        return [(str(k), int(v)) for k, v in parts.items()]
    if dataclasses.is_dataclass(estimate):
        return [
            (f.name, int(getattr(estimate, f.name)))
            for f in dataclasses.fields(estimate)
            if f.name != "total" and isinstance(getattr(estimate, f.name), int)
        ]
    return []


class MemoryPanel(Static):
    def show(self, estimate: Any, free: int | None, where: str, error: str | None = None) -> None:
        if estimate is None:
            self.update(Text(f"Memory estimate: not available ({error})", style="dim"))
            return
        table = Table.grid(padding=(0, 2))
        table.add_column(style="dim")
        table.add_column(justify="right")
        for name, size in estimate_parts(estimate):
            table.add_row(name.replace("_", " "), gb(size))
        table.add_row(
            Text("total per device", style="bold"), Text(gb(estimate.total), style="bold")
        )
        if free is None:
            table.add_row("free", "unknown")
            self.update(table)
            return
        verdict = str(estimate.verdict(free))
        table.add_row(f"free ({where})", gb(free))
        table.add_row("verdict", Text(verdict, style=VERDICT_STYLE.get(verdict, "")))
        suggestion = estimate.suggestion() if verdict != "fits" else None
        if suggestion:
            table.add_row("try", Text(str(suggestion), style="yellow"))
        self.update(table)
