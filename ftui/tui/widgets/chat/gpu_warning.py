"""Asks before a model is loaded onto a GPU that a live training run is using."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class ConfirmLoad(ModalScreen[bool]):
    """Dismisses with True (load anyway) or False (do not load)."""

    BINDINGS = [Binding("escape", "dismiss(False)", "Cancel")]

    def __init__(self, warning: str) -> None:
        super().__init__()
        self.warning = warning

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-load"):
            yield Static("GPU in use", classes="confirm-title")
            yield Static(self.warning, classes="confirm-text")
            with Horizontal(classes="confirm-buttons"):
                yield Button("Load anyway", id="load-anyway", variant="warning")
                yield Button("Cancel", id="cancel", variant="primary")

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "load-anyway")
