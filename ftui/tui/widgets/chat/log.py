"""The conversation: one block per turn; the answer being generated grows in place."""

from __future__ import annotations

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static


def printable(text: str) -> str:
    """What an untrained model emits can hold control bytes: show them as a placeholder."""
    return "".join(c if c.isprintable() or c in "\n\t" else "\ufffd" for c in text)


class ChatTurn(Static):
    """One message. `role` is user, assistant, or note (a notice from the playground)."""

    def __init__(self, role: str, text: str, label: str = "") -> None:
        super().__init__(classes=f"turn turn-{role}")
        self.role = role
        self.label = label
        self.text = text
        self.detail = ""

    def on_mount(self) -> None:
        self._redraw()

    def set_text(self, text: str, detail: str | None = None) -> None:
        self.text = text
        if detail is not None:
            self.detail = detail
        self._redraw()

    def _redraw(self) -> None:
        head = {"user": "you", "assistant": self.label or "model", "note": ""}.get(self.role, "")
        out = Text()
        if head:
            out.append(head + "\n", style="bold")
        out.append(printable(self.text) or ("…" if self.role == "assistant" else ""))
        if self.detail:
            out.append("\n" + self.detail, style="dim")
        self.update(out)


class ChatLog(VerticalScroll):
    """The screen sets what it shows; it posts nothing."""

    def add_turn(self, role: str, text: str, label: str = "") -> ChatTurn:
        turn = ChatTurn(role, text, label)
        self.mount(turn)
        self.scroll_end(animate=False)
        return turn

    def last_answer(self) -> ChatTurn | None:
        turns = [t for t in self.query(ChatTurn) if t.role == "assistant"]
        return turns[-1] if turns else None

    def grow(self, text: str, detail: str | None = None) -> None:
        turn = self.last_answer()
        if turn is not None:
            turn.set_text(text, detail)
            self.scroll_end(animate=False)

    def clear_turns(self) -> None:
        self.query(ChatTurn).remove()
