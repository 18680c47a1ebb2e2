"""Which real dataset column plays which role, with the reason ftui proposed it.

    ColumnMapper(available=["document", "summary", "id"], mapping={...}, reasons=[...])

Each role is a choice among the dataset's real columns (or "not used"); next to it the
reason for the proposal (`document` looks like the prompt: long text) or what the role
means; below, the columns that are ignored. A mapped column the data does not have is
still shown (marked ✗): the choices always show the mapping they were given. A change
by the user (a choice, or delete on a role: one key clears it) posts
`ColumnMapper.MappingChanged(columns)` with unmapped roles left out. The parent sets new
columns with `set_data(...)` (attributes down, messages up).
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Label, Select, Static

from ftui.core.spec import ROLES

ROLE_HELP = {
    "prompt": "the instruction or question",
    "input": "extra context for the prompt (alpaca's input)",
    "response": "the answer the model learns to write",
    "system": "a per-row system prompt",
    "messages": "a list of chat turns (role/content or from/value)",
    "text": "plain text, trained on whole",
}


def reason_for(column: str, reasons: list[str]) -> str | None:
    """Why `column` was proposed: the first reason naming it, without the column's name."""
    found = next((r for r in reasons if f"`{column}`" in r and not r.startswith("ignored")), None)
    if found is None:
        return None
    head, sep, rest = found.partition(": ")
    return rest if sep and head.startswith(f"`{column}`") else found


class ColumnMapper(Vertical):
    """Role -> column choices over the real columns, with reasons; posts MappingChanged."""

    BINDINGS = [Binding("delete,backspace", "clear_role", "Clear role")]

    @dataclass
    class MappingChanged(Message):
        columns: dict[str, str]

    def __init__(
        self,
        available: list[str] | None = None,
        mapping: dict[str, str] | None = None,
        reasons: list[str] | None = None,
        ignored: list[str] | None = None,
        *,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id, classes="column-mapper")
        self.available = list(available or [])
        self.mapping = dict(mapping or {})
        self.reasons = list(reasons or [])
        self.ignored = list(ignored or [])

    def compose(self) -> ComposeResult:
        if not self.available:
            yield Static("Load the dataset to map its columns.", classes="note")
            return
        missing = [c for c in self.mapping.values() if c not in self.available]
        options = [(c, c) for c in self.available]
        options += [(f"✗ {c}", c) for c in dict.fromkeys(missing)]  # the red line says why
        for role in ROLES:
            current = self.mapping.get(role)
            with Horizontal(classes="mapper-line"):
                yield Label(role, classes="mapper-role")
                yield Select(
                    options,
                    value=current if current is not None else Select.NULL,
                    prompt="(not used)",
                    compact=True,
                    id=f"map-{role}",
                    classes="mapper-select",
                )
                why = reason_for(current, self.reasons) if current else None
                yield Static(why or ROLE_HELP[role], classes="mapper-why" if why else "mapper-help")
        yield Static(self._ignored_text(), id="mapper-ignored", classes="note")

    def _ignored_text(self) -> str:
        used = set(self.mapping.values())
        ignored = [c for c in self.available if c not in used]
        return (
            f"ignored columns: {', '.join(ignored) if ignored else 'none'}   (delete clears a role)"
        )

    async def set_data(
        self,
        available: list[str],
        mapping: dict[str, str],
        reasons: list[str] | None = None,
        ignored: list[str] | None = None,
    ) -> None:
        """New columns or a new proposal: rebuild the choices (posts nothing)."""
        self.available = list(available)
        self.mapping = dict(mapping)
        self.reasons = list(reasons or [])
        self.ignored = list(ignored or [])
        await self.recompose()

    @on(Select.Changed)
    def _chosen(self, event: Select.Changed) -> None:
        event.stop()
        role = (event.select.id or "").removeprefix("map-")
        if role not in ROLES:
            return
        mapping = dict(self.mapping)
        if event.value is Select.NULL:
            mapping.pop(role, None)
        else:
            mapping[role] = str(event.value)
        if mapping != self.mapping:
            self.mapping = mapping
            self.query_one("#mapper-ignored", Static).update(self._ignored_text())
            self.post_message(self.MappingChanged(dict(mapping)))

    def on_descendant_focus(self) -> None:
        """Tab into a role's choice shows every role (and the ignored columns), not one line."""
        self.scroll_visible(animate=False)

    def action_clear_role(self) -> None:
        """Delete on a role's choice: the role is not used (one key, no menu)."""
        focused = self.screen.focused
        if isinstance(focused, Select) and focused in self.query(Select):
            focused.value = Select.NULL  # posts Select.Changed: handled by _chosen
