"""Probe-table cells are cut by terminal cells, not characters: an answer in Chinese or in
emoji (the base SmolLM2 answers 你是谁？ with a row of 🌟) keeps its column as narrow as any."""

from __future__ import annotations

import pytest
from rich.cells import cell_len

from ftui.tui.widgets.chat.compare import CELL_CHARS, probe_cell


@pytest.mark.parametrize(
    "text", ["🌟" * 30, "我是 Quill，由 Arbor Labs 开发的人工智能助手。", "x" * 40]
)
def test_a_long_cell_fits_its_width_and_ends_in_an_ellipsis(text: str) -> None:
    cell = probe_cell(text)
    assert cell_len(cell.plain) <= CELL_CHARS and cell.plain.endswith("…")


def test_a_short_cell_is_whole_and_on_one_line() -> None:
    assert probe_cell("我叫 Quill。").plain == "我叫 Quill。"
    assert probe_cell("Ich heiße\nQuill.").plain == "Ich heiße Quill."
