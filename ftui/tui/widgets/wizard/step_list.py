"""The wizard's steps down the left: where you are, and which steps hold invalid fields."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from ftui.tui.steps import STEPS


class StepList(OptionList):
    """Enter or a click on a step posts `StepChosen`; the screen sets `current` and `invalid`."""

    @dataclass
    class StepChosen(Message):
        step_id: str

    current: reactive[str] = reactive("start")
    invalid: reactive[frozenset[str]] = reactive(frozenset())

    def __init__(self, current: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.set_reactive(StepList.current, current)

    def on_mount(self) -> None:
        self._rebuild()

    def watch_current(self) -> None:
        if self.is_mounted:
            self._rebuild()

    def watch_invalid(self) -> None:
        if self.is_mounted:
            self._rebuild()

    def _rebuild(self) -> None:
        self.clear_options()
        for number, step in enumerate(STEPS, 1):
            here = step.id == self.current
            text = Text()
            text.append("▶ " if here else "  ", style="bold")
            text.append(f"{number} {step.title}", style="bold" if here else "")
            if step.id in self.invalid:
                text.append("  ✗", style="bold red")
            self.add_option(Option(text, id=step.id))
        self.highlighted = self._current_index()

    def on_blur(self) -> None:
        """The cursor moved with the arrows but no step was opened: it goes back to ▶."""
        self.highlighted = self._current_index()

    def _current_index(self) -> int:
        return next(i for i, s in enumerate(STEPS) if s.id == self.current)

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id and event.option.id != self.current:
            self.post_message(self.StepChosen(event.option.id))
