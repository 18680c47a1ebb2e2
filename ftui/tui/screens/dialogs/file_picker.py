"""Pick a local dataset file or folder: a directory tree showing folders and data files only.

    push_screen(DataFilePicker(start_dir), callback)  -> the chosen path, or None
Enter on a file picks it; `f` picks the highlighted folder (all its files of one type).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DirectoryTree, Footer, Static

DATA_SUFFIXES = {".json", ".jsonl", ".csv", ".tsv", ".parquet", ".txt"}


class DataDirectoryTree(DirectoryTree):
    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        return [
            p
            for p in paths
            if not p.name.startswith(".") and (p.is_dir() or p.suffix.lower() in DATA_SUFFIXES)
        ]


class DataFilePicker(ModalScreen[str | None]):
    CSS_PATH = "../../styles/data.tcss"
    BINDINGS = [
        Binding("escape", "dismiss_none", "Cancel"),
        Binding("f", "pick_folder", "Use this folder"),
    ]

    def __init__(self, start: str | Path = ".") -> None:
        super().__init__()
        self.start = Path(start).expanduser()

    def compose(self) -> ComposeResult:
        with Vertical(id="picker"):
            yield Static(
                "Choose a data file (json, jsonl, csv, tsv, parquet, txt); f: the folder",
                id="picker-title",
            )
            yield DataDirectoryTree(self.start, id="picker-tree")
        yield Footer()

    @on(DirectoryTree.FileSelected)
    def _file(self, event: DirectoryTree.FileSelected) -> None:
        event.stop()
        self.dismiss(str(event.path))

    def action_pick_folder(self) -> None:
        node = self.query_one(DataDirectoryTree).cursor_node
        if node is not None and node.data is not None and Path(node.data.path).is_dir():
            self.dismiss(str(node.data.path))

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
