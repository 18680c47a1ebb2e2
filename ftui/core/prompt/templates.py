"""Prompt templates: a conversation becomes segments of text, each trained or masked.

Training and the playground both go through `render()`, so what you chat with is exactly what
was trained. Segments are tokenised one by one (`tokenize_segments`), which makes the label
mask exact: the masked span is the prompt, to the token.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ftui.core.spec import TemplateSection

ALPACA_PREAMBLE = (
    "Below is an instruction that describes a task. "
    "Write a response that appropriately completes the request."
)
ALPACA_PREAMBLE_INPUT = (
    "Below is an instruction that describes a task, paired with an input that provides "
    "further context. Write a response that appropriately completes the request."
)
EOS = "\x00<eos>"  # a segment with this text stands for the tokenizer's EOS token id
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


def _user_text(conv: Conversation, index: int, content: str, merge_input: bool) -> str:
    if index == 0 and conv.input and merge_input:
        return f"{content}\n\n{conv.input}"
    return content


def _chat_blocks(
    conv: Conversation,
    system: str | None,
    sys_block: str,
    user_block: str,
    asst_header: str,
    end: str,
    after_end: str,
    gen: bool,
) -> list[Segment]:
    prompt = sys_block.format(system) if system else ""
    out: list[Segment] = []
    user_index = 0
    for msg in conv.turns:
        if msg.role == "user":
            prompt += user_block.format(_user_text(conv, user_index, msg.content, True))
            user_index += 1
        else:
            out.append(Segment(prompt + asst_header, False))
            out.append(Segment(msg.content, True))
            out.append(Segment(end, True))
            prompt = after_end
    if gen:
        out.append(Segment(prompt + asst_header, False))
    elif prompt and prompt != after_end:  # a trailing user turn; not the bare separator
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
        return _tokenizer_template(conv, system, tokenizer, gen, spec.train_on_input)
    elif name in STYLES:
        segs = STYLES[name].render(conv, system, gen)
    else:  # pragma: no cover - the spec's Literal rules this out
        raise TemplateError(f"template.name: unknown template {name!r}")
    if spec.train_on_input and not gen:
        segs = [Segment(s.text, True) for s in segs]
    return segs


def _chatml(conv: Conversation, system: str | None, gen: bool) -> list[Segment]:
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
    )
    return [Segment(BOS, False), *segs]


def _mistral(conv: Conversation, system: str | None, gen: bool) -> list[Segment]:
    return _paired(conv, system, "[INST] {} [/INST]", "", EOS, gen)


def _summarize(conv: Conversation, system: str | None, gen: bool) -> list[Segment]:
    return _paired(conv, None, "Summarize this dialogue:\n{}\n---\nSummary:\n", "", EOS, gen)


def _completion(conv: Conversation, system: str | None, gen: bool) -> list[Segment]:
    return _paired(conv, None, "{}", "", EOS, gen)


def _paired(
    conv: Conversation,
    system: str | None,
    user_fmt: str,
    sep: str,
    end: str,
    gen: bool,
    system_fmt: str = "{system}\n\n{text}",
    answer_fmt: str = "{}",
    bos_each_turn: bool = False,
) -> list[Segment]:
    """[BOS] user_fmt(prompt) answer end, repeated per turn; the system prompt joins the first
    user turn through system_fmt. mistral, llama2, summarize and completion are all this."""
    out: list[Segment] = [Segment(BOS, False)]
    pending = ""
    user_index = 0
    for msg in conv.turns:
        if msg.role == "user":
            text = _user_text(conv, user_index, msg.content, True)
            if user_index == 0 and system:
                text = system_fmt.format(system=system, text=text)
            if bos_each_turn and user_index > 0:
                out.append(Segment(BOS, False))
            pending += user_fmt.format(text) + sep
            user_index += 1
        else:
            out.append(Segment(pending, False))
            out.append(Segment(answer_fmt.format(msg.content), True))
            out.append(Segment(end, True))
            pending = ""
    if gen or pending:
        out.append(Segment(pending, False))
    return out


def _llama2(conv: Conversation, system: str | None, gen: bool) -> list[Segment]:
    return _paired(
        conv,
        system,
        "[INST] {} [/INST]",
        "",
        EOS,
        gen,
        system_fmt="<<SYS>>\n{system}\n<</SYS>>\n\n{text}",
        answer_fmt=" {} ",
        bos_each_turn=True,
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


def _tokenizer_template(
    conv: Conversation, system: str | None, tokenizer: Any, gen: bool, train_on_input: bool
) -> list[Segment]:
    """The model's own chat template; masks found by rendering each prefix of the conversation."""
    if tokenizer is None or not getattr(tokenizer, "chat_template", None):
        raise TemplateError(
            "template.name: tokenizer, but this model's tokenizer has no chat template; "
            "pick an explicit template (chatml, llama3, alpaca, ...)"
        )
    msgs = [{"role": m.role, "content": m.content} for m in conv.turns]
    if conv.input and msgs and msgs[0]["role"] == "user":
        msgs[0] = {"role": "user", "content": f"{msgs[0]['content']}\n\n{conv.input}"}
    if system:
        msgs.insert(0, {"role": "system", "content": system})

    def text(upto: int, add_gen: bool) -> str:
        from jinja2.exceptions import SecurityError

        try:  # transformers renders chat templates in jinja's immutable sandbox
            return tokenizer.apply_chat_template(
                msgs[:upto], tokenize=False, add_generation_prompt=add_gen
            )
        except SecurityError as exc:
            raise TemplateError(
                f"template.name: the model's chat template tried something unsafe and the "
                f"sandbox stopped it (security error: {exc}); pick an explicit template"
            ) from None

    if gen:
        return [Segment(text(len(msgs), True), False)]
    out: list[Segment] = []
    done = ""
    for i, m in enumerate(msgs):
        if m["role"] != "assistant":
            continue
        before, after = text(i, True), text(i + 1, False)
        if not before.startswith(done) or not after.startswith(before):
            raise TemplateError(
                "template.name: the model's chat template does not render conversation prefixes "
                "consistently, so the trained span cannot be found; pick an explicit template"
            )
        out.append(Segment(before[len(done) :], train_on_input))
        out.append(Segment(after[len(before) :], True))
        done = after
    full = text(len(msgs), False)
    if full.startswith(done) and len(full) > len(done):
        out.append(Segment(full[len(done) :], train_on_input))
    return out


def stop_strings(spec: TemplateSection, tokenizer: Any = None) -> list[str]:
    """Text that ends an answer at generation time (besides the tokenizer's EOS). For the
    model's own template (`tokenizer`) the end-of-turn marker of its family."""
    name: str = spec.name
    if name == "tokenizer" and tokenizer is not None:
        name = chat_template_family(getattr(tokenizer, "chat_template", None)) or name
    style = STYLES.get(name)
    return list(style.stop) if style else []


def tokenize_segments(
    segments: list[Segment], tokenizer: Any, max_len: int | None = None
) -> tuple[list[int], list[int]]:
    """(input_ids, labels) with -100 on masked tokens; truncated at max_len."""
    ids: list[int] = []
    labels: list[int] = []
    for seg in segments:
        if seg.text == EOS:
            piece = [tokenizer.eos_token_id] if tokenizer.eos_token_id is not None else []
        elif seg.text == BOS:
            bos = getattr(tokenizer, "bos_token_id", None)
            piece = [bos] if bos is not None else []
        elif seg.text:
            piece = tokenizer.encode(seg.text, add_special_tokens=False)
        else:
            piece = []
        ids.extend(piece)
        labels.extend(piece if seg.trained else [-100] * len(piece))
    if max_len is not None and len(ids) > max_len:
        ids, labels = ids[:max_len], labels[:max_len]
    return ids, labels
