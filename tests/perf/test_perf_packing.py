"""Packing must never let two samples attend to each other (transformers 5.x, real models)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from ftui.train.collator import DynamicPadCollator, PackingCollator, TokenCounter
from ftui.train.packing_check import packing_isolates

from .perf_helpers import make_spec

ROWS = [
    {"input_ids": [5, 9, 14, 3, 22, 7, 8], "labels": [-100, -100, 14, 3, 22, 7, 8]},
    {"input_ids": [31, 4, 4, 17], "labels": [31, 4, 4, 17]},  # first label: never trained
    {"input_ids": [12, 40, 41, 42, 43, 44, 45, 46, 47, 2], "labels": [-100] * 4 + [43] * 6},
]


def _load(path: Path, attn: str):  # type: ignore[no-untyped-def]
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(path, attn_implementation=attn)
    model.config.use_cache = False  # as in training: a cache turns packed-sequence masks off
    return model.eval()


def _leaky_attention(module, query, key, value, attention_mask, **kwargs):  # type: ignore[no-untyped-def]
    """An attention kernel with no mask support, like many hub kernels: causal over the whole
    row, so a packed sample sees the samples before it."""
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    return sdpa_attention_forward(module, query, key, value, None, **kwargs)


@pytest.fixture(scope="module")
def leaky_name() -> str:
    from transformers import AttentionInterface

    AttentionInterface.register("ftui_test_leaky", _leaky_attention)
    return "ftui_test_leaky"


@pytest.mark.parametrize("attn", ["sdpa", "eager"])
def test_packed_logits_equal_each_row_alone(tiny_model: Path, attn: str) -> None:
    model = _load(tiny_model, attn)
    batch = PackingCollator(TokenCounter())(ROWS)
    with torch.no_grad():
        packed = model(input_ids=batch["input_ids"], position_ids=batch["position_ids"]).logits[0]
        start = 0
        for row in ROWS:
            n = len(row["input_ids"])
            alone = model(input_ids=torch.tensor([row["input_ids"]])).logits[0]
            torch.testing.assert_close(packed[start : start + n], alone, atol=1e-5, rtol=1e-5)
            start += n
    assert packing_isolates(model)


def test_leaky_attention_mixes_packed_rows_and_probe_sees_it(
    tiny_model: Path, leaky_name: str
) -> None:
    model = _load(tiny_model, leaky_name)
    batch = PackingCollator(TokenCounter())(ROWS[:2])
    with torch.no_grad():
        packed = model(input_ids=batch["input_ids"], position_ids=batch["position_ids"]).logits[0]
        alone = model(input_ids=torch.tensor([ROWS[1]["input_ids"]])).logits[0]
    assert (packed[len(ROWS[0]["input_ids"]) :] - alone).abs().max() > 1e-2
    assert not packing_isolates(model)


def test_worker_packs_only_where_attention_keeps_rows_apart(
    tiny_model: Path, rows_file: Path, leaky_name: str
) -> None:
    from transformers import AutoTokenizer

    from ftui.train.build import pick_collator

    spec = make_spec(tiny_model, rows_file).model_copy(deep=True)
    spec.data.packing = True
    tok = AutoTokenizer.from_pretrained(tiny_model)
    safe = pick_collator(spec, tok, TokenCounter(), _load(tiny_model, "sdpa"))
    leaky = pick_collator(spec, tok, TokenCounter(), _load(tiny_model, leaky_name))
    assert isinstance(safe, PackingCollator)
    assert isinstance(leaky, DynamicPadCollator)
    # and without packing asked for, never packing
    spec.data.packing = False
    assert isinstance(pick_collator(spec, tok, TokenCounter(), None), DynamicPadCollator)


def test_packed_loss_equals_padded_loss(tiny_model: Path) -> None:
    """Same tokens, same labels: the first label of each packed row is masked, and a padded row
    never uses its first label either (labels are shifted), so the mean loss is the same."""
    model = _load(tiny_model, "sdpa")
    packed = PackingCollator(TokenCounter())(ROWS)
    padded = DynamicPadCollator(0, TokenCounter())(ROWS)
    with torch.no_grad():
        a = model(**packed).loss
        b = model(**padded).loss
    torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
