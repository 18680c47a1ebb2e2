"""What a template renders: a conversation of messages, into segments of text each trained or
masked. The types every template module shares (named styles, the model's own template, the
encoder) live here so none of them imports another's internals."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Placeholders inside segment text for the tokenizer's BOS / EOS token text; the encoder
# substitutes them (or drops them where the tokenizer has no such token). NUL-prefixed so no
# real data collides with them.
EOS = "\x00<eos>"
BOS = "\x00<bos>"


@dataclass
class Segment:
    text: str
    trained: bool


@dataclass
class Message:
    role: str  # system | user | assistant
    content: str


@dataclass
class Conversation:
    messages: list[Message]
    input: str | None = None  # alpaca's extra context, attached to the first user turn
    text: str | None = None  # plain-text rows: trained as a whole
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def system(self) -> str | None:
        first = self.messages[0] if self.messages else None
        return first.content if first and first.role == "system" else None

    @property
    def turns(self) -> list[Message]:
        return [m for m in self.messages if m.role != "system"]


class TemplateError(ValueError):
    pass


class TemplateTooCostly(TemplateError):
    """The template ran out of its time or size budget: the lens stops instead of paying the
    budget again on every row."""


def user_text(conv: Conversation, index: int, content: str) -> str:
    """A user turn's text: the first one carries the row's extra input (alpaca's `input`)."""
    if index == 0 and conv.input:
        return f"{content}\n\n{conv.input}"
    return content
