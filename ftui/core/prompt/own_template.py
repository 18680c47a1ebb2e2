"""`template: tokenizer`: the model's own chat template, rendered once per conversation.

The whole conversation goes through `tokenizer.apply_chat_template(tokenize=False)` once, so
whatever the template does (a default system prompt, a date header, the system prompt moved
into a user turn, an empty <think> block on the last answer) is kept as is. The trained spans
are then found in that one text: each assistant message's content, extended over the
end-of-turn token right after it (`<|im_end|>`, `<|eot_id|>`, `</s>`). Nothing is rendered
prefix by prefix, so a template need not render prefixes of a conversation consistently.
"""

from __future__ import annotations

import re
from typing import Any

from ftui.core.prompt.conversation import (
    Conversation,
    Segment,
    TemplateError,
    TemplateTooCostly,
    user_text,
)

# Stands in for assistant message i while locating the answers: private-use characters, which
# no template strips (they are not whitespace) and no data set contains.
_SENTINEL = "\ue000ftui-answer-{}\ue001"
_SENTINEL_RE = re.compile("\ue000ftui-answer-(\\d+)\ue001")


def chat_messages(conv: Conversation, system: str | None) -> list[dict[str, str]]:
    """The conversation as chat-template messages: system first, the row's input merged into
    the first user turn."""
    msgs: list[dict[str, str]] = []
    user_index = 0
    for m in conv.turns:
        content = m.content
        if m.role == "user":
            content = user_text(conv, user_index, content)
            user_index += 1
        msgs.append({"role": m.role, "content": content})
    if system:
        msgs.insert(0, {"role": "system", "content": system})
    return msgs


def _template_kwargs(tokenizer: Any) -> dict[str, Any]:
    """What apply_chat_template passes besides the messages: the special tokens, as text."""
    out: dict[str, Any] = {}
    for key, value in (getattr(tokenizer, "special_tokens_map", None) or {}).items():
        out[key] = [str(v) for v in value] if isinstance(value, (list, tuple)) else str(value)
    return out


def render_chat(tokenizer: Any, msgs: list[dict[str, str]], add_generation_prompt: bool) -> str:
    """The model's chat template applied to msgs, as text (what apply_chat_template renders),
    within a time and size budget; its refusals and its budget become TemplateError."""
    from jinja2.exceptions import SecurityError
    from jinja2.exceptions import TemplateError as JinjaError

    from ftui.core.prompt.bounded_jinja import TemplateBudgetError, render_bounded

    if tokenizer is None or not getattr(tokenizer, "chat_template", None):
        raise TemplateError(
            "template.name: tokenizer, but this model's tokenizer has no chat template; "
            "pick an explicit template (chatml, llama3, alpaca, ...)"
        )
    name = f"the chat template of {getattr(tokenizer, 'name_or_path', '') or 'this model'}"
    try:  # the sandbox transformers uses, with a time and a size budget (bounded_jinja)
        text = render_bounded(
            tokenizer.get_chat_template(),
            messages=msgs,
            tools=None,
            documents=None,
            add_generation_prompt=add_generation_prompt,
            **_template_kwargs(tokenizer),
        )
    except TemplateBudgetError as exc:
        if exc.kind == "slow":
            why = f"too slow: one conversation took over {exc.limit:g} s to render (the limit)"
        elif exc.kind == "large":
            why = f"too large: {exc.what}, over the limit of {int(exc.limit)} characters"
        else:
            why = f"too deep: {exc.what}"
        raise TemplateTooCostly(
            f"template.name: tokenizer: {name} is {why}; pick an explicit template "
            "(chatml, llama3, ...) or fix chat_template in its tokenizer_config.json"
        ) from None
    except SecurityError as exc:
        raise TemplateError(
            f"template.name: {name} tried something unsafe and the sandbox stopped it "
            f"(security error: {exc}); pick an explicit template"
        ) from None
    except JinjaError as exc:  # raise_exception(...) in the template: it refuses these messages
        roles = "/".join(m["role"] for m in msgs)
        raise TemplateError(
            f"template.name: tokenizer: the model's chat template refuses this conversation "
            f"({roles}): {exc}; map the data differently or pick an explicit template"
        ) from None
    return str(text)


def own_template_segments(
    conv: Conversation, system: str | None, tokenizer: Any, gen: bool, train_on_input: bool
) -> list[Segment]:
    """Segments of the model's own rendering: the answers (and their end-of-turn tokens)
    trained, the rest masked; with gen=True, the prompt for the next answer."""
    msgs = chat_messages(conv, system)
    if gen:
        return [Segment(render_chat(tokenizer, msgs, True), False)]
    text = render_chat(tokenizer, msgs, False)
    spans = _spans_by_sentinel(tokenizer, msgs, text) or _spans_by_search(msgs, text)
    specials = _special_texts(tokenizer)
    out: list[Segment] = []
    done = 0
    for start, end in spans:
        end = _end_of_turn(text, end, specials)
        if start > done:
            out.append(Segment(text[done:start], train_on_input))
        out.append(Segment(text[start:end], True))
        done = end
    if done < len(text):
        out.append(Segment(text[done:], train_on_input))
    return out


def _candidates(content: str) -> list[str]:
    """How a template may have written an answer: as is, or trimmed the ways chat templates
    trim (`| trim` in Llama-3, `.strip()` in Llama-2, `.lstrip('\\n')` in Qwen3)."""
    out = [content]
    for variant in (content.strip(), content.lstrip("\n"), content.strip("\n"), content.rstrip()):
        if variant not in out:
            out.append(variant)
    return out


def _spans_by_sentinel(
    tokenizer: Any, msgs: list[dict[str, str]], text: str
) -> list[tuple[int, int]] | None:
    """Answer spans found by rendering once more with each answer replaced by a sentinel: the
    text around the sentinels must be the real rendering's, verbatim. None when the template
    renders differently around them (it looks at the answers' content); then the answers are
    searched for instead."""
    answers = [i for i, m in enumerate(msgs) if m["role"] == "assistant"]
    if not answers:
        return []
    marked = list(msgs)
    for k, i in enumerate(answers):
        marked[i] = {**msgs[i], "content": _SENTINEL.format(k)}
    try:
        rendered = render_chat(tokenizer, marked, False)
    except TemplateError:
        return None
    parts = _SENTINEL_RE.split(rendered)  # text, index, text, index, ..., text
    pieces, order = parts[0::2], [int(x) for x in parts[1::2]]
    if order != list(range(len(answers))):  # each answer exactly once, in order
        return None
    spans: list[tuple[int, int]] = []
    pos = 0
    for k, i in enumerate(answers):
        if not text.startswith(pieces[k], pos):
            return None
        pos += len(pieces[k])
        last = k == len(answers) - 1
        follow = pieces[k + 1]
        for cand in _candidates(msgs[i]["content"]):
            if (text[pos:] == cand + follow) if last else text.startswith(cand + follow, pos):
                spans.append((pos, pos + len(cand)))
                pos += len(cand)
                break
        else:
            return None
    return spans


def _spans_by_search(msgs: list[dict[str, str]], text: str) -> list[tuple[int, int]]:
    """Answer spans found by searching the text for each message in turn, each search after
    the previous match; user turns move the cursor too, so an answer is never found inside
    the question before it. System turns are skipped: templates may move them."""
    spans: list[tuple[int, int]] = []
    cursor = 0
    n_answer = 0
    for m in msgs:
        if m["role"] == "system":
            continue
        found = next(
            ((at, c) for c in _candidates(m["content"]) if (at := text.find(c, cursor)) >= 0),
            None,
        )
        if m["role"] == "assistant":
            n_answer += 1
            if found is None:
                preview = " ".join(m["content"].split())[:60]
                raise TemplateError(
                    f"template.name: tokenizer: the model's chat template does not show "
                    f"assistant message {n_answer} ({preview!r}) as written, so its trained "
                    "span cannot be found; pick an explicit template"
                )
            spans.append((found[0], found[0] + len(found[1])))
        if found is not None:
            cursor = found[0] + len(found[1])
    return spans


def _special_texts(tokenizer: Any) -> list[str]:
    """Text of the special tokens that may end a turn, longest first. BOS and UNK never do
    (SmolLM2's BOS is `<|im_start|>`, which opens the next turn)."""
    texts = set(getattr(tokenizer, "all_special_tokens", []) or [])
    for tok in (getattr(tokenizer, "added_tokens_decoder", {}) or {}).values():
        if getattr(tok, "special", False):
            texts.add(str(tok.content))
    texts -= {getattr(tokenizer, "bos_token", None), getattr(tokenizer, "unk_token", None)}
    return sorted((t for t in texts if t), key=len, reverse=True)


def _end_of_turn(text: str, end: int, specials: list[str]) -> int:
    """Where an answer's turn ends: after optional whitespace and one special token (the
    end-of-turn the model must learn to emit). Only one: in Llama-3 `<|eot_id|>` is followed
    at once by the next turn's `<|start_header_id|>`, which is the prompt's. Special tokens
    are matched as text because tokenizers split them off before anything else."""
    pos = end
    while pos < len(text) and text[pos].isspace():
        pos += 1
    for special in specials:
        if text.startswith(special, pos):
            return pos + len(special)
    return end
