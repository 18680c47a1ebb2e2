"""Save the current spec as a user preset: a name and a description (the Start step and
`ftui presets list` show it), enter to save, escape to cancel."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from ftui.core.presets import description_header, save_preset
from ftui.core.spec import RunSpec, SpecError
from ftui.tui.messages import PresetSaved


class SavePresetScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape", "dismiss", "Cancel")]

    def __init__(self, spec: RunSpec, name: str, description: str = "") -> None:
        super().__init__(id="save-preset")
        self.spec = spec
        self.default_name = name
        self.default_description = description

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("Save as preset", classes="section-title")
            yield Input(self.default_name, id="preset-name")
            yield Label("Description", classes="section-title")
            yield Input(
                self.default_description, id="preset-description", placeholder="what it is for"
            )
            yield Static("enter saves · escape cancels", classes="field-help")
            yield Static("", id="preset-error", classes="field-error")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        name = self.query_one("#preset-name", Input).value.strip()
        description = self.query_one("#preset-description", Input).value.strip()
        header = description_header(name, description) if description else None
        try:
            path = save_preset(name, self.spec, header=header)
        except (SpecError, OSError) as exc:
            lines = exc.problems if isinstance(exc, SpecError) else [str(exc)]
            self.query_one("#preset-error", Static).update("\n".join(lines))
            return
        self.app.post_message(PresetSaved(name, path))
        self.dismiss()
