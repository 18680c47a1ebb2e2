"""The chat template written into an export renders exactly what ftui's template trained on."""

from __future__ import annotations

from pathlib import Path

import pytest

from ftui.core.playground.export_card import template_jinja
from ftui.core.prompt.templates import BOS, EOS, Conversation, Message, render
from ftui.core.spec import TemplateSection

TURNS = [Message("user", "Hi?"), Message("assistant", "Hello."), Message("user", "And you?")]


@pytest.mark.parametrize("name", ["chatml", "llama3"])
@pytest.mark.parametrize("system_in_spec", [None, "Be brief."])
@pytest.mark.parametrize("system_in_chat", [None, "You are a pirate."])
def test_jinja_matches_the_trained_template(
    demo_model: Path, name: str, system_in_spec: str | None, system_in_chat: str | None
) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(demo_model)
    section = TemplateSection(name=name, system_prompt=system_in_spec)
    tokenizer.chat_template = template_jinja(section)
    messages = ([Message("system", system_in_chat)] if system_in_chat else []) + TURNS
    ours = "".join(
        {BOS: tokenizer.bos_token, EOS: tokenizer.eos_token}.get(s.text, s.text)
        for s in render(section, Conversation(messages), tokenizer, gen=True)
    )
    theirs = tokenizer.apply_chat_template(
        [{"role": m.role, "content": m.content} for m in messages],
        tokenize=False,
        add_generation_prompt=True,
    )
    assert theirs == ours


def test_templates_without_an_equivalent_say_so() -> None:
    assert template_jinja(TemplateSection(name="alpaca")) is None
