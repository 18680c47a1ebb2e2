"""The mask lens: tokens with trained/masked flags, EOS marked, and the statistics."""

from __future__ import annotations

import pytest

from ftui.core.data.dataset import resolve_mapping
from ftui.core.data.mask_lens import build_lens
from ftui.core.data.preview import preview_rows
from ftui.core.data.row_stats import histogram, suggested_max_len
from tests.data_fixtures import QA, spec_for, tiny_model, tokenizer, write_jsonl, write_xsum_parquet
from tests.official_templates import CHATS
from tests.real_artefacts import real_tokenizer


def _lens(path, **sections):  # type: ignore[no-untyped-def]
    spec = spec_for(path, tiny_model("chatml"), **sections)
    pv = preview_rows(spec.data, n=100)
    det = resolve_mapping(spec.data, pv.columns, pv.rows)
    return build_lens(pv.rows, det, spec, tokenizer("chatml"), show=2)


def test_tokens_carry_trained_flags_and_eos(tmp_path):
    rows = [{"prompt": q, "response": a} for q, a in QA]
    lens = _lens(write_jsonl(tmp_path, "qa.jsonl", rows), template={"name": "alpaca"})
    row = lens.rows[0]
    masked = "".join(t.text for t in row.tokens if not t.trained)
    trained = "".join(t.text for t in row.tokens if t.trained)
    assert masked.endswith(f"### Instruction:\n{QA[0][0]}\n\n### Response:\n")
    assert trained == f"{QA[0][1]}</s>"
    assert row.tokens[-1].eos and row.tokens[-1].trained and row.tokens[-1].special
    assert [t.eos for t in row.tokens].count(True) == 1
    assert len(lens.rows) == 2 and lens.stats.rows == len(QA)
    assert lens.stats.trained_tokens == sum(r.trained for r in lens.rows) + sum(
        len(tokenizer("chatml").encode(a, add_special_tokens=False)) + 1 for _, a in QA[2:]
    )
    assert 0 < lens.stats.trained_share < 1


def test_truncation_no_trained_rows_and_suggested_length(tmp_path):
    path = write_xsum_parquet(tmp_path, rows=10)
    lens = _lens(path, template={"name": "summarize"}, data={"max_seq_len": 64})
    st = lens.stats
    # every document is longer than 64 tokens: every row is cut, before its summary begins
    assert st.truncated == 10 and st.no_trained == 10 and st.no_trained_share == 1.0
    assert st.examples["truncated"] == 0 and st.examples["no_trained"] == 0
    assert lens.rows[0].truncated and len(lens.rows[0].tokens) == 64
    assert lens.rows[0].length > 64
    assert st.suggested_max_len() >= max(st.lengths) and st.suggested_max_len() % 8 == 0
    roomy = _lens(
        path, template={"name": "summarize"}, data={"max_seq_len": st.suggested_max_len()}
    )
    assert roomy.stats.truncated == 0 and roomy.stats.no_trained == 0


def test_empty_prompts_and_responses_are_counted_with_the_first_example(tmp_path):
    rows = [
        {"prompt": "q0", "response": "a0"},
        {"prompt": "", "response": "a1"},
        {"prompt": "q2", "response": " "},
        {"prompt": "q3", "response": ""},
    ]
    lens = _lens(
        write_jsonl(tmp_path, "e.jsonl", rows),
        data={"columns": {"prompt": "prompt", "response": "response"}},
    )
    st = lens.stats
    assert (st.empty_prompt, st.empty_response) == (1, 2)
    assert st.examples == {"empty_prompt": 1, "empty_response": 2}


def test_histogram_bins_are_round_and_hold_every_row():
    lengths = [5, 12, 19, 20, 95, 310]
    bins = histogram(lengths, bins=20, cut=256)
    widths = {b.hi - b.lo for b in bins}
    assert widths == {20} and bins[0].lo == 0
    assert sum(b.count for b in bins) == len(lengths)
    assert [b.count for b in bins[:2]] == [3, 1]  # 5, 12, 19 | 20
    cut_bin = next(b for b in bins if b.lo <= 256 < b.hi)
    assert cut_bin.lo == 240


def test_suggested_length_keeps_99_percent():
    lengths = list(range(1, 201))  # 200 rows, 1..200 tokens
    assert suggested_max_len(lengths) == 200  # 99% of 200 = 198 rows -> 198 -> 200
    assert suggested_max_len(lengths, keep=0.5) == 104
    assert suggested_max_len([]) == 0


def test_lens_keeps_template_errors_on_the_row(tmp_path):
    rows = [{"prompt": q, "response": a} for q, a in QA]
    spec = spec_for(
        write_jsonl(tmp_path, "qa.jsonl", rows), tiny_model("base"), template={"name": "tokenizer"}
    )
    pv = preview_rows(spec.data, n=10)
    det = resolve_mapping(spec.data, pv.columns, pv.rows)
    lens = build_lens(pv.rows, det, spec, tokenizer("base"))
    assert lens.stats.errors == len(QA) and "has no chat template" in lens.rows[0].error


@pytest.mark.parametrize(
    ("case", "template"), [("llama3-tokenizer", "tokenizer"), ("mistral-tokenizer", "llama2")]
)
def test_lens_shows_characters_whole_with_token_boundaries(tmp_path, case, template):
    """Pieces come from character offsets: an accent or emoji split over byte-level (or
    sentencepiece byte-fallback) tokens shows whole, where decoding token by token gives
    `\ufffd`; the pieces spell the rendered row."""
    from ftui.core.prompt.encode import encode
    from ftui.core.prompt.templates import Conversation, Message

    tok = real_tokenizer(case)
    path = write_jsonl(tmp_path, "chat.jsonl", [{"messages": chat} for chat in CHATS])
    spec = spec_for(path, tiny_model("chatml"), template={"name": template})
    pv = preview_rows(spec.data, n=10)
    lens = build_lens(pv.rows, resolve_mapping(spec.data, pv.columns, pv.rows), spec, tok)
    row = lens.rows[0]
    pieces: list[str] = []
    for t in row.tokens:
        if t.joined:
            pieces[-1] += t.text
        else:
            pieces.append(t.text)
    conv = Conversation([Message(m["role"], m["content"]) for m in CHATS[0]])
    assert "".join(pieces) == encode(spec.template, conv, tok).text
    assert "\ufffd" not in "".join(pieces) and any(t.joined for t in row.tokens)
    assert any("\ufffd" in tok.decode([t.id]) for t in row.tokens)  # what decoding showed
    assert any("🔥" in p for p in pieces) and any("°" in p for p in pieces)
    assert "lumière" in "".join(pieces) and len(pieces) < len(row.tokens)


def test_the_suggested_length_is_capped_at_the_models_context():
    lengths = [15000] * 99 + [16000]
    assert suggested_max_len(lengths) == 15000
    assert suggested_max_len(lengths, cap=2048) == 2048
    assert suggested_max_len([100], cap=2048) == 104
