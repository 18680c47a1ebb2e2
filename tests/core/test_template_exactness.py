"""On real tokenizers, ftui trains exactly the ids the model is served with.

For every real tokenizer with a chat template (and the sentencepiece one with the official
Llama-2-chat and Mistral-7B-Instruct-v0.1 templates attached): multi-turn chats with a system
turn, accents and emoji give ftui's ids == `apply_chat_template` ids, for `template:
tokenizer` and for the named template of the family; every answer and its end-of-turn token
are trained, the system and user turns masked (everything trained with train_on_input).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest

from ftui.core.prompt.check import default_template, own_template_difference
from ftui.core.prompt.encode import Encoded, encode, labels_by_prefix, segments_text, token_pieces
from ftui.core.prompt.templates import Conversation, Message, TemplateError, render
from ftui.core.spec import TemplateSection
from tests.official_templates import CHATML, CHATS, LLAMA2_CHAT, MISTRAL_V01, merge_system
from tests.real_artefacts import SMOLLM2, artefact_path, real_tokenizer


@cache
def _attached(name: str, template: str) -> Any:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(artefact_path(name)))
    tok.chat_template = template
    return tok


def tokenizer_of(case: str) -> Any:
    """A real tokenizer by case name: its own chat template, or an official one attached."""
    attached = {
        "mistral+llama2-chat": ("mistral-tokenizer", LLAMA2_CHAT),
        "mistral+mistral-v0.1": ("mistral-tokenizer", MISTRAL_V01),
        "qwen3+chatml": ("qwen3-tokenizer", CHATML),
    }
    if case in attached:
        return _attached(*attached[case])
    return real_tokenizer(case)


# case -> (the end-of-turn text trained after each answer, whether the template strips contents)
OWN = {
    "llama3-tokenizer": ("<|eot_id|>", True),
    "qwen3-tokenizer": ("<|im_end|>", False),
    SMOLLM2: ("<|im_end|>", False),
    "mistral+llama2-chat": (" </s>", True),
    "mistral+mistral-v0.1": ("</s>", False),
}


def chat_for(case: str, chat: list[dict[str, str]]) -> list[dict[str, str]]:
    return merge_system(chat) if case == "mistral+mistral-v0.1" else chat  # no system role


def conversation(chat: list[dict[str, str]]) -> Conversation:
    return Conversation([Message(m["role"], m["content"]) for m in chat])


def runs(enc: Encoded, trained: bool) -> list[str]:
    """The text of each run of trained (or masked) tokens, from the rendered text."""
    pieces = token_pieces(enc)
    assert pieces is not None
    out: list[str] = []
    prev = None
    for (text, _), label in zip(pieces, enc.labels, strict=True):
        hit = (label != -100) == trained
        if hit and prev:
            out[-1] += text
        elif hit:
            out.append(text)
        prev = hit
    return out


def first_difference(ours: list[int], theirs: list[int]) -> int | None:
    if ours == theirs:
        return None
    pairs = zip(ours, theirs, strict=False)
    return next((i for i, (a, b) in enumerate(pairs) if a != b), min(len(ours), len(theirs)))


@pytest.mark.parametrize("case", sorted(OWN))
def test_own_template_is_token_exact_and_trains_the_answers(case: str) -> None:
    tok = tokenizer_of(case)
    end, strips = OWN[case]
    for chat in CHATS:
        chat = chat_for(case, chat)
        enc = encode(TemplateSection(name="tokenizer"), conversation(chat), tok)
        theirs = tok.apply_chat_template(chat, tokenize=True, return_dict=False)
        assert first_difference(enc.ids, theirs) is None
        answers = [m["content"] for m in chat if m["role"] == "assistant"]
        trained = runs(enc, trained=True)
        assert len(trained) == len(answers)
        for run, answer in zip(trained, answers, strict=True):
            assert run.endswith(end)  # the end-of-turn token is trained
            written = answer.strip() if strips else answer
            body = run[: -len(end)]
            # before the answer only whitespace that shares a token with its first word
            assert body.endswith(written) and not body[: -len(written)].strip(), (run, answer)
        masked = "".join(runs(enc, trained=False))
        for m in chat:
            if m["role"] != "assistant":
                assert (m["content"].strip() if strips else m["content"]) in masked
        everything = encode(
            TemplateSection(name="tokenizer", train_on_input=True), conversation(chat), tok
        )
        assert everything.ids == enc.ids and everything.labels == enc.ids


# named template -> the case whose official template it claims to be
NAMED = [
    ("llama3", "llama3-tokenizer"),
    ("chatml", SMOLLM2),
    ("chatml", "qwen3+chatml"),  # Qwen3's own template is not plain ChatML (see below)
    ("llama2", "mistral+llama2-chat"),
    ("mistral", "mistral+mistral-v0.1"),
]


@pytest.mark.parametrize(("name", "case"), NAMED)
def test_named_templates_match_their_familys_official_template(name: str, case: str) -> None:
    tok = tokenizer_of(case)
    for chat in CHATS:
        conv = conversation(chat)  # the named template handles the system turn itself
        ours = encode(TemplateSection(name=name), conv, tok)
        theirs = tok.apply_chat_template(chat_for(case, chat), tokenize=True, return_dict=False)
        assert first_difference(ours.ids, theirs) is None
        own = encode(TemplateSection(name="tokenizer"), conversation(chat_for(case, chat)), tok)
        assert ours.labels == own.labels  # the same answers and end tokens trained
        assert own_template_difference(TemplateSection(name=name), [conv], tok) is None


@pytest.mark.parametrize(("name", "case"), NAMED)
def test_named_generation_prompt_is_the_official_one(name: str, case: str) -> None:
    tok = tokenizer_of(case)
    chat = CHATS[0][:-1]  # ends with a user turn
    ours = encode(TemplateSection(name=name), conversation(chat), tok, gen=True)
    official = chat_for(case, chat)
    theirs = tok.apply_chat_template(
        official, tokenize=True, add_generation_prompt=True, return_dict=False
    )
    assert ours.ids == theirs


def test_chatml_is_not_qwen3s_template_and_the_difference_is_named() -> None:
    """Qwen3 writes an empty <think> block before the last answer; chatml (plain ChatML)
    does not, so on Qwen3 ftui warns and names the token on both sides."""
    tok = real_tokenizer("qwen3-tokenizer")
    convs = [conversation(chat) for chat in CHATS]
    line = own_template_difference(TemplateSection(name="chatml"), convs, tok)
    ours = encode(TemplateSection(name="chatml"), convs[0], tok)
    at = first_difference(ours.ids, encode(TemplateSection(name="tokenizer"), convs[0], tok).ids)
    assert line == (
        f"template.name: chatml renders row 1 differently from this model's own chat template "
        f"at token {at}: ftui 'Warm' vs model '<think>'; use template: tokenizer"
    )


def test_the_models_own_template_is_the_default_where_there_is_one() -> None:
    assert TemplateSection().name == "tokenizer"
    for name in ("llama3-tokenizer", "qwen3-tokenizer", SMOLLM2):
        assert default_template(real_tokenizer(name))[0] == "tokenizer"
    # no chat template and no ChatML tokens: an instruction template, never chatml
    assert default_template(real_tokenizer("mistral-tokenizer"))[0] == "alpaca"


def test_playground_prompt_is_exactly_apply_chat_template() -> None:
    from ftui.core.playground.inference import ChatModel, prompt_ids
    from ftui.core.spec import RunSpec

    spec = RunSpec.model_validate({"template": {"name": "tokenizer"}})
    for name in ("llama3-tokenizer", "qwen3-tokenizer", SMOLLM2):
        tok = real_tokenizer(name)
        cm = ChatModel(model=None, tokenizer=tok, spec=spec, has_adapter=False, source=name)
        chat = CHATS[1][:-1]
        messages = [Message(m["role"], m["content"]) for m in chat]
        theirs = tok.apply_chat_template(
            chat, tokenize=True, add_generation_prompt=True, return_dict=False
        )
        assert prompt_ids(cm, messages) == theirs, name


def test_an_answer_the_template_does_not_show_is_refused_naming_it() -> None:
    """Qwen3 moves reasoning out of an answer that holds `</think>`: the answer as written is
    not in the rendering, so no span can be trained and the error says which one."""
    tok = real_tokenizer("qwen3-tokenizer")
    conv = conversation(
        [
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "<think>greet back</think>Hello there"},
            {"role": "user", "content": "Bye"},
            {"role": "assistant", "content": "Bye!"},
        ]
    )
    with pytest.raises(TemplateError, match=r"assistant message 1 \('<think>greet back"):
        render(TemplateSection(name="tokenizer"), conv, tok)


@pytest.mark.parametrize("case", sorted(OWN))
def test_labels_without_offsets_agree_with_offsets(case: str) -> None:
    """The fallback for tokenizers without offsets finds the same trained tokens."""
    tok = tokenizer_of(case)
    for chat in CHATS:
        segs = render(TemplateSection(name="tokenizer"), conversation(chat_for(case, chat)), tok)
        text, trained = segments_text(segs, tok)
        enc = encode(TemplateSection(name="tokenizer"), conversation(chat_for(case, chat)), tok)
        assert labels_by_prefix(tok, text, enc.ids, trained) == enc.labels
