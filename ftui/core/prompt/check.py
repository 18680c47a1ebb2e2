"""Which template fits a model, and what is wrong with the one chosen.

- `default_template(tokenizer)`: the model's own chat template (`tokenizer`) whenever it has
  one that renders a conversation, else the named template of the same family, else an
  instruction template (alpaca) for a base model.
- `template_warnings(name, tokenizer)`: a chat template of another family than the
  tokenizer's own (chatml on a Llama-3 tokenizer), special tokens the tokenizer lacks, and
  `tokenizer` on a model without a usable chat template.
- `own_template_difference(spec, conversations, tokenizer)`: where a named template's ids
  first differ from the model's own chat template's on real rows.
- `check_custom(text, mapped_roles)`: problems of a custom template, checked as you type.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from ftui.core.prompt.conversation import TemplateTooCostly
from ftui.core.prompt.encode import Encoded, encode, token_pieces
from ftui.core.prompt.templates import (
    CHAT_FAMILIES,
    STYLES,
    Conversation,
    Message,
    TemplateError,
    chat_template_family,
)
from ftui.core.spec import ROLES, TemplateSection, custom_field_problem

COMPARED_ROWS = 3  # first rows a named template is compared on with the model's own template

# A conversation any chat template should render: two user/assistant turns, no system turn
# (Mistral v0.1's template refuses one).
_PROBE = Conversation(
    [
        Message("user", "a"),
        Message("assistant", "b"),
        Message("user", "c"),
        Message("assistant", "d"),
    ]
)


def _own_template_problem(tokenizer: Any) -> str | None:
    """Why the model's own chat template cannot be used for training, or None."""
    try:
        encode(TemplateSection(name="tokenizer"), _PROBE, tokenizer)
    except TemplateError as exc:
        return str(exc)
    except Exception as exc:  # a template may raise anything from jinja
        return f"{type(exc).__name__}: {exc}"
    return None


def default_template(tokenizer: Any) -> tuple[str, str]:
    """(template name, reason) that follows the model."""
    family = chat_template_family(getattr(tokenizer, "chat_template", None))
    if family is None:
        return "alpaca", "the model has no chat template (a base model): an instruction template"
    label = STYLES[family].label if family in STYLES else "custom"
    problem = _own_template_problem(tokenizer)
    if problem is None:
        return "tokenizer", f"the model's tokenizer carries its own {label} chat template"
    if family in CHAT_FAMILIES:
        return family, (
            f"the model's {label} chat template cannot be used ({problem}); the named "
            f"{family} template is the closest"
        )
    return "alpaca", f"the model's chat template cannot be used ({problem}): alpaca instead"


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
        elif (problem := _own_template_problem(tokenizer)) is not None:
            out.append(
                f"template.name: tokenizer, but the model's chat template cannot be used "
                f"({problem}); pick the named template of its family"
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


def _piece(enc: Encoded, index: int, tokenizer: Any) -> str:
    """The text of token `index` (from the rendered text), or 'end' past the last token."""
    if index >= len(enc.ids):
        return "end of row"
    pieces = token_pieces(enc)
    text = pieces[index][0] if pieces else ""
    return repr(text or tokenizer.decode([enc.ids[index]]))


def own_template_difference(
    spec: TemplateSection, conversations: Iterable[Conversation], tokenizer: Any
) -> str | None:
    """A warning line where the named template renders a row to other ids than the model's
    own chat template (the format it is served with), naming the first differing token on
    both sides; None when they agree, when there is no own template to compare with, or when
    the family mismatch is already warned about (template_warnings)."""
    own = chat_template_family(getattr(tokenizer, "chat_template", None))
    if spec.name not in STYLES or own is None:
        return None
    if spec.name in CHAT_FAMILIES and own in CHAT_FAMILIES and own != spec.name:
        return None
    theirs_spec = spec.model_copy(update={"name": "tokenizer", "custom": None})
    for row, conv in enumerate(conversations):
        if conv.text is not None:  # plain-text rows do not use a chat template
            continue
        try:
            ours = encode(spec, conv, tokenizer)
            theirs = encode(theirs_spec, conv, tokenizer)
        except TemplateTooCostly:  # reported where the rows are rendered
            return None
        except TemplateError:  # the own template refuses the row: nothing to compare
            continue
        if ours.ids == theirs.ids:
            continue
        at = next(
            (i for i, (a, b) in enumerate(zip(ours.ids, theirs.ids, strict=False)) if a != b),
            min(len(ours.ids), len(theirs.ids)),
        )
        return (
            f"template.name: {spec.name} renders row {row + 1} differently from this model's own "
            f"chat template at token {at}: ftui {_piece(ours, at, tokenizer)} vs model "
            f"{_piece(theirs, at, tokenizer)}; use template: tokenizer"
        )
    return None


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
    elif problem := custom_field_problem(text):
        return [problem]
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
