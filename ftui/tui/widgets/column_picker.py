"""Which dataset column plays which role (prompt, input, response, system, messages, text).

With the dataset's real column names (`available`) each role is a choice among them;
without, a column name is typed. Posts `MappingChanged(columns)` with unmapped roles left out.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Input, Label, Select

from ftui.core.spec import ROLES

ROLE_HELP = {
    "prompt": "the instruction or question",
    "input": "extra context for the prompt (alpaca's input)",
    "response": "the answer the model learns to write",
    "system": "a per-row system prompt",
    "messages": "a list of {role, content} turns (chat data)",
    "text": "plain text, trained on whole (format text)",
}


class ColumnPicker(Vertical):
    @dataclass
    class MappingChanged(Message):
        columns: dict[str, str]

    def __init__(
        self, columns: dict[str, str], available: list[str] | None = None, **kwargs: object
    ) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.columns = dict(columns)
        self.available = available

    def compose(self) -> ComposeResult:
        for role in ROLES:
            with Horizontal(classes="field-line role-line"):
                yield Label(role, classes="field-label")
                current = self.columns.get(role, "")
                if self.available is not None:
                    options = [(c, c) for c in self.available]
                    yield Select(
                        options,
                        value=current if current in self.available else Select.NULL,
                        prompt="(not used)",
                        compact=True,
                        id=f"role-{role}",
                        classes="field-input",
                    )
                else:
                    yield Input(
                        current,
                        placeholder="(not used)",
                        compact=True,
                        id=f"role-{role}",
                        classes="field-input",
                    )
                yield Label(ROLE_HELP[role], classes="field-help")

    def _set(self, role: str, column: str) -> None:
        mapping = dict(self.columns)
        if column:
            mapping[role] = column
        else:
            mapping.pop(role, None)
        if mapping != self.columns:
            self.columns = mapping
            self.post_message(self.MappingChanged(dict(mapping)))

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        if event.input.id:
            self._set(event.input.id.removeprefix("role-"), event.value.strip())

    @on(Select.Changed)
    def _chosen(self, event: Select.Changed) -> None:
        event.stop()
        if event.select.id:
            value = "" if event.value is Select.NULL else str(event.value)
            self._set(event.select.id.removeprefix("role-"), value)
