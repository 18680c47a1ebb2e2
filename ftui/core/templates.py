"""Prompt templates: a conversation becomes segments of text, each trained or masked.

Training and the playground both go through `render()`, so what you chat with is exactly what
was trained. Segments are tokenised one by one (`tokenize_segments`), which makes the label
mask exact: the masked span is the prompt, to the token.
"""

from __future__ import annotations

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
LLAMA2_DEFAULT_SYSTEM = (
    "You are a helpful, respectful and honest assistant. Always answer as helpfully as "
    "possible, while being safe. Your answers should not include any harmful, unethical, "
    "racist, sexist, toxic, dangerous, or illegal content. Please ensure that your responses "
    "are socially unbiased and positive in nature.\n\nIf a question does not make any sense, "
    "or is not factually coherent, explain why instead of answering something not correct. "
    "If you don't know the answer to a question, please don't share false information."
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
    if name == "chatml":
        segs = _chat_blocks(
            conv,
            system,
            "<|im_start|>system\n{}<|im_end|>\n",
            "<|im_start|>user\n{}<|im_end|>\n",
            "<|im_start|>assistant\n",
            "<|im_end|>",
            "\n",
            gen,
        )
    elif name == "llama3":
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
        segs.insert(0, Segment(BOS, False))
    elif name == "llama2":
        segs = _llama2(conv, system, gen)
    elif name == "mistral":
        segs = _paired(conv, system, "[INST] {} [/INST]", "", EOS, gen)
    elif name == "alpaca":
        segs = _alpaca(conv, system, gen)
    elif name == "summarize":
        segs = _paired(conv, None, "Summarize this dialogue:\n{}\n---\nSummary:\n", "", EOS, gen)
    elif name == "completion":
        segs = _paired(conv, None, "{}", "", EOS, gen)
    elif name == "custom":
        segs = _custom(spec.custom or "{prompt}{response}", conv, system, gen)
    elif name == "tokenizer":
        return _tokenizer_template(conv, system, tokenizer, gen, spec.train_on_input)
    else:  # pragma: no cover - the spec's Literal rules this out
        raise TemplateError(f"template.name: unknown template {name!r}")
    if spec.train_on_input and not gen:
        segs = [Segment(s.text, True) for s in segs]
    return segs


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
    name = spec.name
    if name == "tokenizer" and tokenizer is not None:
        from ftui.core.template_check import chat_template_family

        name = chat_template_family(getattr(tokenizer, "chat_template", None)) or name
    return {"chatml": ["<|im_end|>"], "llama3": ["<|eot_id|>"]}.get(name, [])


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
