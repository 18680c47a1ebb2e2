"""Every template renders one example whose masked span is exactly the prompt, checked
against hand-written text; the answer and the end token are trained; padding never is.

The tiny tokenizer's BOS is `<s>` and EOS `</s>`; it has the chatml and Llama-3 special
tokens. For chatml and llama3 the end-of-turn token (`<|im_end|>`, `<|eot_id|>`) is the
trained stop token; the other templates end the answer with the tokenizer's EOS.
"""

from __future__ import annotations

import pytest

from ftui.core.prompt.encode import encode_segments
from ftui.core.prompt.templates import (
    ALPACA_PREAMBLE,
    Conversation,
    Message,
    Segment,
    TemplateError,
    render,
)
from ftui.core.spec import TemplateSection
from tests.data_fixtures import tokenizer


def tokenize_segments(segs: list[Segment], tok, max_len: int | None = None):  # type: ignore[no-untyped-def]
    """(ids, labels) through ftui's one encoder."""
    enc = encode_segments(segs, tok, max_len)
    return enc.ids, enc.labels


Q, A = "What is 2 plus 2?", "2 plus 2 is 4."
SYS = "Be brief."
H = "<|start_header_id|>{}<|end_header_id|>\n\n"
# name -> (spec extras, masked prompt, trained answer + end token, masked text after it)
CASES = {
    "alpaca": (
        {},
        f"<s>{ALPACA_PREAMBLE}\n\n### Instruction:\n{Q}\n\n### Response:\n",
        f"{A}</s>",
        "",
    ),
    "llama2": (
        {"system_prompt": SYS},
        f"<s>[INST] <<SYS>>\n{SYS}\n<</SYS>>\n\n{Q} [/INST]",
        f" {A} </s>",  # the space before the answer is one token with its first word
        "",
    ),
    "llama3": (
        {"system_prompt": SYS},
        f"<s>{H.format('system')}{SYS}<|eot_id|>{H.format('user')}{Q}<|eot_id|>"
        f"{H.format('assistant')}",
        f"{A}<|eot_id|>",
        "",
    ),
    "chatml": (
        {"system_prompt": SYS},
        f"<|im_start|>system\n{SYS}<|im_end|>\n<|im_start|>user\n{Q}<|im_end|>\n"
        "<|im_start|>assistant\n",
        f"{A}<|im_end|>",
        "\n",  # ChatML ends every turn with a newline, the last one too
    ),
    "mistral": ({"system_prompt": SYS}, f"<s>[INST] {SYS}\n\n{Q} [/INST]", f"{A}</s>", " "),
    "summarize": ({}, f"<s>Summarize this dialogue:\n{Q}\n---\nSummary:\n", f"{A}</s>", ""),
    "completion": ({}, f"<s>{Q}", f"{A}</s>", ""),
    "tokenizer": (
        {"system_prompt": SYS},
        f"<|im_start|>system\n{SYS}<|im_end|>\n<|im_start|>user\n{Q}<|im_end|>\n"
        "<|im_start|>assistant\n",
        f"{A}<|im_end|>",
        "\n",
    ),
    # "A: " then "2": one tokenisation makes " 2" one token, which carries the answer: trained
    "custom": ({"custom": "Q: {prompt}\nA: {response}"}, f"<s>Q: {Q}\nA:", f" {A}</s>", ""),
}


def split_by_label(ids: list[int], labels: list[int], tok) -> tuple[str, str, str]:  # type: ignore[no-untyped-def]
    """(masked text, trained text, masked text after); asserts one trained run."""
    first = next(i for i, x in enumerate(labels) if x != -100)
    last = max(i for i, x in enumerate(labels) if x != -100) + 1
    assert all(x != -100 for x in labels[first:last]), "a masked token inside the answer"
    assert labels[first:last] == ids[first:last]
    return tok.decode(ids[:first]), tok.decode(ids[first:last]), tok.decode(ids[last:])


@pytest.mark.parametrize("name", sorted(CASES))
def test_masked_span_is_exactly_the_prompt(name):
    extra, prompt, trained, after = CASES[name]
    tok = tokenizer("chatml")
    conv = Conversation([Message("user", Q), Message("assistant", A)])
    segs = render(TemplateSection(name=name, **extra), conv, tok)
    ids, labels = tokenize_segments(segs, tok)
    assert split_by_label(ids, labels, tok) == (prompt, trained, after)


@pytest.mark.parametrize("name", ["alpaca", "mistral", "completion", "llama2"])
def test_eos_is_trained(name):
    tok = tokenizer("chatml")
    conv = Conversation([Message("user", Q), Message("assistant", A)])
    ids, labels = tokenize_segments(render(TemplateSection(name=name), conv, tok), tok)
    last = max(i for i, x in enumerate(labels) if x != -100)  # mistral: a masked space after
    assert ids[last] == tok.eos_token_id and labels[last] == tok.eos_token_id


def test_train_on_input_trains_the_prompt_too():
    tok = tokenizer("chatml")
    conv = Conversation([Message("user", Q), Message("assistant", A)])
    ids, labels = tokenize_segments(
        render(TemplateSection(name="alpaca", train_on_input=True), conv, tok), tok
    )
    assert labels == ids


def test_alpaca_input_goes_in_its_own_section():
    tok = tokenizer("chatml")
    conv = Conversation([Message("user", "Add them."), Message("assistant", "5")], input="2, 3")
    ids, labels = tokenize_segments(render(TemplateSection(name="alpaca"), conv, tok), tok)
    masked, trained, _ = split_by_label(ids, labels, tok)
    assert masked.endswith("### Instruction:\nAdd them.\n\n### Input:\n2, 3\n\n### Response:\n")
    assert "paired with an input" in masked and trained == "5</s>"


def test_multi_turn_chatml_trains_every_answer_and_masks_every_question():
    tok = tokenizer("chatml")
    conv = Conversation(
        [
            Message("user", "a?"),
            Message("assistant", "A."),
            Message("user", "b?"),
            Message("assistant", "B."),
        ]
    )
    ids, labels = tokenize_segments(render(TemplateSection(name="chatml"), conv, tok), tok)
    trained = tok.decode([i for i, x in zip(ids, labels, strict=True) if x != -100])
    masked = tok.decode([i for i, x in zip(ids, labels, strict=True) if x == -100])
    assert trained == "A.<|im_end|>B.<|im_end|>"
    assert masked == (
        "<|im_start|>user\na?<|im_end|>\n<|im_start|>assistant\n"
        "\n<|im_start|>user\nb?<|im_end|>\n<|im_start|>assistant\n\n"
    )


def test_llama3_tokenizer_template_matches_the_named_template():
    tok = tokenizer("llama3")
    conv = Conversation([Message("user", Q), Message("assistant", A)])
    own = tokenize_segments(render(TemplateSection(name="tokenizer"), conv, tok), tok)
    named = tokenize_segments(render(TemplateSection(name="llama3"), conv, tok), tok)
    assert own == named


def test_tokenizer_template_on_a_base_model_is_refused():
    conv = Conversation([Message("user", Q), Message("assistant", A)])
    with pytest.raises(TemplateError, match="has no chat template"):
        render(TemplateSection(name="tokenizer"), conv, tokenizer("base"))


def test_generation_prompt_is_the_masked_prompt():
    tok = tokenizer("chatml")
    conv = Conversation([Message("user", Q)])
    for name, (extra, prompt, _, _) in CASES.items():
        segs = render(TemplateSection(name=name, **extra), conv, tok, gen=True)
        ids, labels = tokenize_segments(segs, tok)
        # custom: the prompt keeps the space that training gave to the answer's first token
        assert tok.decode(ids) == prompt + (" " if name == "custom" else ""), name
        assert set(labels) == {-100}


def test_text_rows_are_trained_whole_with_eos():
    tok = tokenizer("chatml")
    segs = render(TemplateSection(name="chatml"), Conversation([], text="hello world"), tok)
    ids, labels = tokenize_segments(segs, tok)
    assert tok.decode(ids) == "<s>hello world</s>"
    assert labels[0] == -100 and labels[1:] == ids[1:]


def test_truncation_cuts_ids_and_labels_together():
    tok = tokenizer("chatml")
    conv = Conversation([Message("user", Q), Message("assistant", A)])
    ids, labels = tokenize_segments(render(TemplateSection(name="alpaca"), conv, tok), tok, 10)
    assert len(ids) == len(labels) == 10


@pytest.mark.parametrize("pad_is_eos", [False, True])
def test_collator_padding_never_carries_a_label(pad_is_eos):
    from ftui.train.collator import DynamicPadCollator, TokenCounter

    tok = tokenizer("chatml")
    pad = tok.eos_token_id if pad_is_eos else tok.pad_token_id
    rows = []
    for q, a in [(Q, A), ("Hi?", "Hello, how are you doing today my friend?")]:
        conv = Conversation([Message("user", q), Message("assistant", a)])
        ids, labels = tokenize_segments(render(TemplateSection(name="alpaca"), conv, tok), tok)
        rows.append({"input_ids": ids, "labels": labels})
    counter = TokenCounter()
    batch = DynamicPadCollator(pad, counter, multiple_of=8)(rows)
    n0, n1 = len(rows[0]["input_ids"]), len(rows[1]["input_ids"])
    width = batch["input_ids"].shape[1]
    assert width == -(-max(n0, n1) // 8) * 8  # the batch's longest row, never max_length
    for i, n in enumerate((n0, n1)):
        assert batch["labels"][i, n:].tolist() == [-100] * (width - n)
        assert batch["attention_mask"][i].tolist() == [1] * n + [0] * (width - n)
        assert batch["input_ids"][i, n:].tolist() == [pad] * (width - n)
        # the real EOS at the end of each row is still trained
        assert batch["labels"][i, n - 1].item() == tok.eos_token_id
    assert counter.real == n0 + n1 and counter.padded == 2 * width


# --- which template fits the model -------------------------------------------------------------


def test_default_template_follows_the_model():
    from ftui.core.prompt.check import default_template

    assert default_template(tokenizer("chatml"))[0] == "tokenizer"
    name, reason = default_template(tokenizer("llama3"))
    assert name == "tokenizer" and "Llama-3" in reason
    assert default_template(tokenizer("base")) == (
        "alpaca",
        "the model has no chat template (a base model): an instruction template",
    )


def test_template_warnings():
    from ftui.core.prompt.check import template_warnings

    assert template_warnings("chatml", tokenizer("chatml")) == []
    assert template_warnings("llama3", tokenizer("llama3")) == []
    assert "carries a Llama-3 chat template" in template_warnings("chatml", tokenizer("llama3"))[0]
    assert "base model" in template_warnings("tokenizer", tokenizer("base"))[0]
    assert template_warnings("alpaca", tokenizer("base")) == []


def test_template_warning_for_special_tokens_the_tokenizer_lacks(tmp_path):
    from transformers import AutoTokenizer

    from ftui.core.demo import build_tiny_model
    from ftui.core.prompt.check import template_warnings

    plain = AutoTokenizer.from_pretrained(build_tiny_model(tmp_path, chat_template=None))
    (w,) = template_warnings("llama3", plain)
    assert w.startswith("template.name: llama3 uses <|start_header_id|>, <|end_header_id|>")


@pytest.mark.parametrize(
    ("text", "roles", "problem"),
    [
        ("Q: {prompt}\nA: {response}", {"prompt", "response"}, None),
        ("Q: {prompt}\n{input}\nA: {response}", {"messages"}, "uses {input} but no column"),
        ("Q: {prompt}\nA: {respons}", {"prompt", "response"}, "unknown placeholder {respons}"),
        ("{response} after {prompt}", {"prompt", "response"}, "exactly once, at the end"),
        ("Q: {prompt\nA: {response}", {"prompt", "response"}, "an unmatched { or }"),
        ("", None, "template.custom: empty"),
    ],
)
def test_custom_template_checked_as_you_type(text, roles, problem):
    from ftui.core.prompt.check import check_custom

    found = check_custom(text, roles)
    if problem is None:
        assert found == []
    else:
        assert any(problem in p for p in found), found


def test_stop_strings_of_the_models_own_template_follow_its_family():
    from ftui.core.prompt.templates import stop_strings

    assert stop_strings(TemplateSection(name="tokenizer"), tokenizer("chatml")) == ["<|im_end|>"]
    assert stop_strings(TemplateSection(name="tokenizer"), tokenizer("llama3")) == ["<|eot_id|>"]
    assert stop_strings(TemplateSection(name="chatml")) == ["<|im_end|>"]
    assert stop_strings(TemplateSection(name="alpaca"), tokenizer("chatml")) == []


def test_own_template_that_looks_at_the_answers_is_searched_in_order():
    """A template that renders differently depending on an answer's content defeats the
    sentinel pass; the answers are then searched for in turn, after the question before
    them (which here contains the answer too)."""
    from transformers import AutoTokenizer

    from tests.data_fixtures import tiny_model

    tok = AutoTokenizer.from_pretrained(tiny_model("chatml"))
    tok.chat_template = (
        "{% for m in messages %}<|im_start|>{{ m['role'] }}"
        "{% if m['content'] | length < 5 %} (short){% endif %}\n"
        "{{ m['content'] }}<|im_end|>\n{% endfor %}"
    )
    conv = Conversation(
        [
            Message("user", "Say yes"),
            Message("assistant", "yes"),
            Message("user", "Say no, not yes"),
            Message("assistant", "no"),
        ]
    )
    ids, labels = tokenize_segments(render(TemplateSection(name="tokenizer"), conv, tok), tok)
    assert ids == tok.apply_chat_template(
        [{"role": m.role, "content": m.content} for m in conv.messages],
        tokenize=True,
        return_dict=False,
    )
    trained = tok.decode([i for i, x in zip(ids, labels, strict=True) if x != -100])
    assert trained == "yes<|im_end|>no<|im_end|>"
