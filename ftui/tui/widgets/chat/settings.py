"""Live generation settings, the system prompt and which weights answer, for the chat."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Input, Label, Select

from ftui.core.spec import GenerationSection

FIELDS = ("temperature", "top_k", "top_p", "max_new_tokens")


class ChatSettings(VerticalScroll):
    """Posts SettingChanged / SystemPromptChanged / WeightsChosen; the screen validates."""

    @dataclass
    class SettingChanged(Message):
        """A generation setting was typed: its name and the text as typed (maybe invalid)."""

        name: str
        raw: str

    @dataclass
    class SystemPromptChanged(Message):
        text: str

    @dataclass
    class WeightsChosen(Message):
        """BASE or the name of an adapter source."""

        choice: str

    def __init__(self, settings: GenerationSection, system_prompt: str | None, **kw: Any) -> None:
        super().__init__(**kw)
        self._settings = settings
        self._system = system_prompt or ""

    def compose(self) -> ComposeResult:
        yield Label("Weights", classes="field-label")
        yield Select([("loading…", "")], id="weights", allow_blank=False)
        yield Label("System prompt", classes="field-label")
        yield Input(self._system, placeholder="(the run's)", id="system-prompt")
        for name in FIELDS:
            yield Label(name, classes="field-label")
            yield Input(str(getattr(self._settings, name)), id=f"set-{name}", classes="setting")

    def set_weights(self, options: list[tuple[str, str]], value: str) -> None:
        select = self.query_one("#weights", Select)
        with self.prevent(Select.Changed):
            select.set_options(options)
            select.value = value

    def show_weights(self, value: str) -> None:
        select = self.query_one("#weights", Select)
        with self.prevent(Select.Changed):
            select.value = value

    def mark(self, name: str, error: str | None) -> None:
        widget = self.query_one(f"#set-{name}", Input)
        widget.set_class(error is not None, "-invalid")
        widget.tooltip = error

    @on(Input.Changed, ".setting")
    def _setting(self, event: Input.Changed) -> None:
        event.stop()
        name = (event.input.id or "").removeprefix("set-")
        self.post_message(self.SettingChanged(name, event.value))

    @on(Input.Submitted, "#system-prompt")
    @on(Input.Blurred, "#system-prompt")
    def _system_prompt(self, event: Input.Submitted | Input.Blurred) -> None:
        event.stop()
        if event.value != self._system:
            self._system = event.value
            self.post_message(self.SystemPromptChanged(event.value))

    @on(Select.Changed, "#weights")
    def _weights(self, event: Select.Changed) -> None:
        event.stop()
        if isinstance(event.value, str) and event.value:
            self.post_message(self.WeightsChosen(event.value))
