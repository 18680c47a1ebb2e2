"""Which template fits a model, and what is wrong with the one chosen.

- `default_template(tokenizer)`: the model's own chat template (`tokenizer`) when it has one
  that renders prefixes consistently, else the named template of the same family, else an
  instruction template (alpaca) for a base model.
- `template_warnings(name, tokenizer)`: a chat template of another family than the
  tokenizer's own (chatml on a Llama-3 tokenizer), special tokens the tokenizer lacks, and
  `tokenizer` on a model without a chat template.
- `check_custom(text, mapped_roles)`: problems of a custom template, checked as you type.
"""

from __future__ import annotations

import re
from typing import Any

from ftui.core.prompt.templates import (
    CHAT_FAMILIES,
    STYLES,
    Conversation,
    Message,
    TemplateError,
    chat_template_family,
    render,
)
from ftui.core.spec import ROLES, TemplateSection


def _renders_prefixes(tokenizer: Any) -> bool:
    conv = Conversation(
        [
            Message("user", "a"),
            Message("assistant", "b"),
            Message("user", "c"),
            Message("assistant", "d"),
        ]
    )
    try:
        render(TemplateSection(name="tokenizer"), conv, tokenizer)
    except (TemplateError, Exception):  # a template may raise anything from jinja
        return False
    return True


def default_template(tokenizer: Any) -> tuple[str, str]:
    """(template name, reason) that follows the model."""
    family = chat_template_family(getattr(tokenizer, "chat_template", None))
    if family is None:
        return "alpaca", "the model has no chat template (a base model): an instruction template"
    label = STYLES[family].label if family in STYLES else "custom"
    if _renders_prefixes(tokenizer):
        return "tokenizer", f"the model's tokenizer carries its own {label} chat template"
    if family in CHAT_FAMILIES:
        return family, (
            f"the model's {label} chat template does not render conversation prefixes "
            f"consistently, so the trained span is found with the named {family} template"
        )
    return "alpaca", "the model's chat template cannot mark the trained span: alpaca instead"


def _is_single_token(tokenizer: Any, text: str) -> bool:
    try:
        return len(tokenizer.encode(text, add_special_tokens=False)) == 1
    except Exception:
        return False


def template_warnings(name: str, tokenizer: Any) -> list[str]:
    """Mismatches between the chosen template and the model's tokenizer, one line each."""
    out: list[str] = []
    own = chat_template_family(getattr(tokenizer, "chat_template", None))
    if name == "tokenizer":
        if own is None:
            out.append(
                "template.name: tokenizer, but this is a base model whose tokenizer has no "
                "chat template; pick alpaca (instructions) or chatml/llama3"
            )
        elif not _renders_prefixes(tokenizer):
            out.append(
                "template.name: tokenizer, but the model's chat template does not render "
                "conversation prefixes consistently; pick the named template of its family"
            )
        return out
    if name in CHAT_FAMILIES and own in CHAT_FAMILIES and own != name:
        out.append(
            f"template.name: {name}, but this model's tokenizer carries a "
            f"{STYLES[own].label} chat template; the model was tuned on that format: use "
            f"{own} or tokenizer"
        )
    wanted = STYLES[name].special_tokens if name in STYLES else ()
    missing = [t for t in wanted if not _is_single_token(tokenizer, t)]
    if missing:
        out.append(
            f"template.name: {name} uses {', '.join(missing)}, which this tokenizer does not "
            "have as special tokens: they are split into pieces the model has never seen"
        )
    return out


PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def check_custom(text: str, mapped_roles: set[str] | list[str] | None = None) -> list[str]:
    """Problems of a custom template, e.g. while it is being typed. Empty list: it is fine.

    Placeholders: {prompt}, {input}, {system} and {response} (exactly once, at the end);
    a role used by the template must be mapped to a column (when a mapping is given).
    """
    problems: list[str] = []
    if not text.strip():
        return ["template.custom: empty; write e.g. 'Q: {prompt}\\nA: {response}'"]
    stray = re.sub(r"\{[^{}]*\}", "", text)
    if "{" in stray or "}" in stray:
        problems.append("template.custom: an unmatched { or }")
    names = PLACEHOLDER.findall(text)
    for n in names:
        if n not in ROLES:
            problems.append(
                f"template.custom: unknown placeholder {{{n}}}; allowed: "
                + ", ".join("{" + r + "}" for r in ("prompt", "input", "system", "response"))
            )
    if names.count("response") != 1 or not text.rstrip().endswith("{response}"):
        problems.append("template.custom: must contain {response} exactly once, at the end")
    if mapped_roles is not None:
        mapped = set(mapped_roles)
        if "messages" in mapped:  # chat rows give the first user turn and answer
            mapped |= {"prompt", "response"}
        for n in dict.fromkeys(names):
            if n in ("prompt", "input", "response") and n not in mapped:
                problems.append(
                    f"template.custom: uses {{{n}}} but no column is mapped to {n} "
                    f"(mapped: {', '.join(sorted(mapped)) or 'none'})"
                )
    return problems
