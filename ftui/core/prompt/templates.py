"""Prompt templates: a conversation becomes segments of text, each trained or masked.

Training, the mask lens and the playground all go through `render()` and then one encoder
(`encode.encode_segments`: the joined text tokenised once, labels from character offsets), so
what you chat with is exactly what was trained.

The named templates that claim a chat family render exactly that family's official chat
template (which one, where a family has several, is in each renderer's docstring), so they
tokenise to the same ids as `apply_chat_template`. `tokenizer` is the model's own template
(`own_template`), the default whenever the model has one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ftui.core.prompt.conversation import (
    BOS,
    EOS,
    Conversation,
    Message,
    Segment,
    TemplateError,
    user_text,
)
from ftui.core.prompt.own_template import own_template_segments
from ftui.core.spec import TemplateSection, custom_field_problem

__all__ = [
    "BOS",
    "CHAT_FAMILIES",
    "EOS",
    "STYLES",
    "Conversation",
    "Message",
    "PromptStyle",
    "Segment",
    "TemplateError",
    "chat_template_family",
    "render",
    "stop_strings",
]

ALPACA_PREAMBLE = (
    "Below is an instruction that describes a task. "
    "Write a response that appropriately completes the request."
)
ALPACA_PREAMBLE_INPUT = (
    "Below is an instruction that describes a task, paired with an input that provides "
    "further context. Write a response that appropriately completes the request."
)


def _same(text: str) -> str:
    return text


def _chat_blocks(
    conv: Conversation,
    system: str | None,
    sys_block: str,
    user_block: str,
    asst_header: str,
    end: str,
    after_end: str,
    gen: bool,
    clean: Callable[[str], str] = _same,
) -> list[Segment]:
    """Header-delimited turns (ChatML, Llama-3): each answer and its end token trained, the
    rest masked; `clean` is what the family's template does to every message's content."""
    prompt = sys_block.format(clean(system)) if system else ""
    out: list[Segment] = []
    user_index = 0
    for msg in conv.turns:
        if msg.role == "user":
            prompt += user_block.format(clean(user_text(conv, user_index, msg.content)))
            user_index += 1
        else:
            out.append(Segment(prompt + asst_header, False))
            out.append(Segment(clean(msg.content), True))
            out.append(Segment(end, True))
            prompt = after_end
    if gen:
        out.append(Segment(prompt + asst_header, False))
    elif prompt:  # what follows the last answer (ChatML's newline) or a trailing user turn
        out.append(Segment(prompt, False))
    return out


def render(
    spec: TemplateSection, conv: Conversation, tokenizer: Any = None, gen: bool = False
) -> list[Segment]:
    """Segments for a conversation. With gen=True, ends with the prompt for the next answer."""
    if conv.text is not None:
        return [Segment(BOS, False), Segment(conv.text, True), Segment(EOS, True)]
    system = conv.system if conv.system is not None else spec.system_prompt
    name = spec.name
    if name == "custom":
        segs = _custom(spec.custom or "{prompt}{response}", conv, system, gen)
    elif name == "tokenizer":
        return own_template_segments(conv, system, tokenizer, gen, spec.train_on_input)
    elif name in STYLES:
        segs = STYLES[name].render(conv, system, gen)
    else:  # pragma: no cover - the spec's Literal rules this out
        raise TemplateError(f"template.name: unknown template {name!r}")
    if spec.train_on_input and not gen:
        segs = [Segment(s.text, True) for s in segs]
    return segs


def _chatml(conv: Conversation, system: str | None, gen: bool) -> list[Segment]:
    """ChatML as the canonical template writes it (OpenHermes-2.5's, SmolLM2's and Qwen2.5's
    when a system turn is given): every turn ends `<|im_end|>\n`. Qwen2.5 adds its default
    system prompt when there is none, SmolLM2 its own; Qwen3 adds an empty <think> block to
    the last answer: for those models use `tokenizer`."""
    return _chat_blocks(
        conv,
        system,
        "<|im_start|>system\n{}<|im_end|>\n",
        "<|im_start|>user\n{}<|im_end|>\n",
        "<|im_start|>assistant\n",
        "<|im_end|>",
        "\n",
        gen,
    )


def _llama3(conv: Conversation, system: str | None, gen: bool) -> list[Segment]:
    """Llama-3-8B-Instruct's template: BOS, header blocks, every content trimmed. Llama-3.1
    and later add a "Cutting Knowledge Date" block to the system turn: use `tokenizer`."""
    h = "<|start_header_id|>{}<|end_header_id|>\n\n"
    segs = _chat_blocks(
        conv,
        system,
        h.format("system") + "{}<|eot_id|>",
        h.format("user") + "{}<|eot_id|>",
        h.format("assistant"),
        "<|eot_id|>",
        "",
        gen,
        clean=str.strip,
    )
    return [Segment(BOS, False), *segs]


def _mistral(conv: Conversation, system: str | None, gen: bool) -> list[Segment]:
    """Mistral-7B-Instruct-v0.1's template: `<s>[INST] q [/INST]a</s> [INST] ...`, a space
    after every `</s>`. v0.1 has no system role: the system prompt goes in front of the first
    user message, a blank line between. v0.3 (control tokens, system prompt in the last user
    turn) differs: use `tokenizer`."""
    return _paired(conv, system, gen, user_fmt="[INST] {} [/INST]", end=EOS, after_end=" ")


def _summarize(conv: Conversation, system: str | None, gen: bool) -> list[Segment]:
    return _paired(
        conv, None, gen, user_fmt="Summarize this dialogue:\n{}\n---\nSummary:\n", end=EOS
    )


def _completion(conv: Conversation, system: str | None, gen: bool) -> list[Segment]:
    return _paired(conv, None, gen, user_fmt="{}", end=EOS)


def _paired(
    conv: Conversation,
    system: str | None,
    gen: bool,
    *,
    user_fmt: str,
    end: str,
    system_fmt: str = "{system}\n\n{text}",
    before_answer: str = "",
    after_end: str = "",
    bos_each_turn: bool = False,
    clean: Callable[[str], str] = _same,
) -> list[Segment]:
    """BOS, user_fmt(prompt), answer, end, repeated per turn; the system prompt joins the first
    user turn through system_fmt. mistral, llama2, summarize and completion are all this.

    `end` (trained) follows each answer, `after_end` (masked) follows `end`; `clean` is what
    the template does to each message's text (Llama-2 strips it)."""
    out: list[Segment] = [Segment(BOS, False)]
    pending = ""
    user_index = 0
    for msg in conv.turns:
        if msg.role == "user":
            text = user_text(conv, user_index, msg.content)
            if user_index == 0 and system:
                text = system_fmt.format(system=system, text=text)
            if bos_each_turn and user_index > 0:
                pending += BOS
            pending += user_fmt.format(clean(text))
            user_index += 1
        else:
            out.append(Segment(pending + before_answer, False))
            out.append(Segment(clean(msg.content), True))
            out.append(Segment(end, True))
            pending = after_end
    if gen or pending:
        out.append(Segment(pending, False))
    return out


def _llama2(conv: Conversation, system: str | None, gen: bool) -> list[Segment]:
    """Llama-2-chat's template: `<s>[INST] <<SYS>>\ns\n<</SYS>>\n\nq [/INST] a </s><s>[INST] ...`,
    each message stripped (the system block with the first user message)."""
    return _paired(
        conv,
        system,
        gen,
        user_fmt="[INST] {} [/INST]",
        end=" " + EOS,
        system_fmt="<<SYS>>\n{system}\n<</SYS>>\n\n{text}",
        before_answer=" ",
        bos_each_turn=True,
        clean=str.strip,
    )


def _alpaca(conv: Conversation, system: str | None, gen: bool) -> list[Segment]:
    preamble = system or (ALPACA_PREAMBLE_INPUT if conv.input else ALPACA_PREAMBLE)
    out: list[Segment] = [Segment(BOS, False)]
    pending = preamble + "\n\n"
    first = True
    last = ""
    for msg in conv.turns:
        last = msg.role
        if msg.role == "user":
            pending += f"### Instruction:\n{msg.content}\n\n"
            if first and conv.input:
                pending += f"### Input:\n{conv.input}\n\n"
            pending += "### Response:\n"
            first = False
        else:
            out.append(Segment(pending, False))
            out.append(Segment(msg.content, True))
            out.append(Segment(EOS, True))
            pending = "\n\n"
    if gen or last == "user":
        out.append(Segment(pending, False))
    return out


def _custom(fmt: str, conv: Conversation, system: str | None, gen: bool) -> list[Segment]:
    if problem := custom_field_problem(fmt):
        raise TemplateError(problem)
    head, _, tail = fmt.partition("{response}")
    users = [m.content for m in conv.turns if m.role == "user"]
    answers = [m.content for m in conv.turns if m.role == "assistant"]
    values = {
        "prompt": users[0] if users else "",
        "input": conv.input or "",
        "system": system or "",
    }
    try:
        prompt = head.format(**values, text="", messages="")
    except (KeyError, IndexError, ValueError) as exc:
        raise TemplateError(f"template.custom: cannot fill {fmt!r}: {exc}") from None
    out = [Segment(BOS, False), Segment(prompt, False)]
    if gen:
        return out
    out += [Segment((answers[0] if answers else "") + tail, True), Segment(EOS, True)]
    return out


@dataclass(frozen=True)
class PromptStyle:
    """One named template: how it renders, and how a chat template of its family is known.

    `marker` is text only this family's chat templates contain (None: not a chat family);
    `special_tokens` must each be one token of the tokenizer; `stop` ends an answer at
    generation time besides the tokenizer's EOS.
    """

    name: str
    label: str
    render: Callable[[Conversation, str | None, bool], list[Segment]]
    marker: str | None = None
    special_tokens: tuple[str, ...] = ()
    stop: tuple[str, ...] = ()


# Chat families first, in the order their markers are tested (a Llama-3 template may also
# mention "[INST]" in a comment; its header token decides).
STYLES: dict[str, PromptStyle] = {
    s.name: s
    for s in (
        PromptStyle(
            "llama3",
            "Llama-3",
            _llama3,
            marker="<|start_header_id|>",
            special_tokens=("<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"),
            stop=("<|eot_id|>",),
        ),
        PromptStyle(
            "chatml",
            "ChatML",
            _chatml,
            marker="<|im_start|>",
            special_tokens=("<|im_start|>", "<|im_end|>"),
            stop=("<|im_end|>",),
        ),
        PromptStyle("llama2", "Llama-2", _llama2, marker="<<SYS>>"),
        PromptStyle("mistral", "Mistral", _mistral, marker="[INST]"),
        PromptStyle("alpaca", "Alpaca", _alpaca),
        PromptStyle("summarize", "Summarize", _summarize),
        PromptStyle("completion", "Completion", _completion),
    )
}
CHAT_FAMILIES = tuple(name for name, style in STYLES.items() if style.marker)


def chat_template_family(chat_template: Any) -> str | None:
    """llama3, chatml, llama2, mistral, 'other' for an unknown template, None for none."""
    if isinstance(chat_template, dict):  # several named templates: judge the default one
        chat_template = chat_template.get("default") or next(iter(chat_template.values()), "")
    if not chat_template:
        return None
    text = str(chat_template)
    for family in CHAT_FAMILIES:
        marker = STYLES[family].marker
        if marker and marker in text:
            return family
    return "other"


def stop_strings(spec: TemplateSection, tokenizer: Any = None) -> list[str]:
    """Text that ends an answer at generation time (besides the tokenizer's EOS). For the
    model's own template (`tokenizer`) the end-of-turn marker of its family."""
    name: str = spec.name
    if name == "tokenizer" and tokenizer is not None:
        name = chat_template_family(getattr(tokenizer, "chat_template", None)) or name
    style = STYLES.get(name)
    return list(style.stop) if style else []
