"""The MFU formula against hand-computed values, and the counts it is fed."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from ftui.train.collator import DynamicPadCollator, PackingCollator, TokenCounter
from ftui.train.flops import FlopModel, causal_pairs, flop_model, flop_model_for, mfu

# build_tiny_model: hidden 64, 2 layers, 4 heads of 16, 2 KV heads, MLP 128, untied head.
HIDDEN, LAYERS, KV, MLP = 64, 2, 32, 128
PER_LAYER = HIDDEN * HIDDEN * 2 + HIDDEN * KV * 2 + HIDDEN * MLP * 3  # q,o + k,v + gate,up,down


def test_causal_pairs() -> None:
    assert [causal_pairs(n) for n in (0, 1, 2, 3, 512)] == [0, 1, 3, 6, 131328]


def test_flop_model_by_hand() -> None:
    fm = flop_model(1_000_000, layers=16, attn_dim=2048, full=False)
    assert fm == FlopModel(dense_per_token=4_000_000.0, attn_per_pair=12 * 16 * 2048)
    assert flop_model(1_000_000, 16, 2048, full=True).dense_per_token == 6_000_000.0
    # 1000 tokens in rows of 100 (10 x 5050 pairs) in 2 s on a 1 TFLOP/s peak
    flops = 4e6 * 1000 + 12 * 16 * 2048 * 50_500
    assert fm.flops(1000, 50_500) == flops
    assert mfu(fm, 1000, 50_500, 2.0, 1e12) == pytest.approx(flops / 2.0 / 1e12)


def test_flop_model_of_a_real_tiny_llama(tiny_model: Path) -> None:
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_model)
    vocab = model.config.vocab_size
    n = LAYERS * PER_LAYER + HIDDEN * vocab  # the input embedding is a lookup: not counted
    full = flop_model_for(model, full=True)
    assert full.dense_per_token == 6 * n
    assert full.attn_per_pair == 12 * LAYERS * HIDDEN
    lora = get_peft_model(
        model,
        LoraConfig(r=8, target_modules="all-linear", modules_to_save=["lm_head"]),
    )
    # adapters add r*(in+out) per wrapped linear; lm_head's frozen copy is never run
    adapters = (
        8
        * LAYERS
        * (2 * (HIDDEN + HIDDEN) + 2 * (HIDDEN + KV) + 2 * (HIDDEN + MLP) + (MLP + HIDDEN))
    )
    assert flop_model_for(lora, full=False).dense_per_token == 4 * (n + adapters)


ROWS = [{"input_ids": list(range(n)), "labels": list(range(n))} for n in (7, 4, 10)]


@pytest.mark.parametrize("collator", ["pad", "pack"])
def test_collators_count_real_tokens_and_pairs(collator: str) -> None:
    counter = TokenCounter()
    c = DynamicPadCollator(0, counter, 8) if collator == "pad" else PackingCollator(counter)
    c(ROWS)
    assert counter.real == 21
    assert counter.pairs == 28 + 10 + 55
    assert counter.padded == (3 * 16 if collator == "pad" else 21)
    counter.take()
    assert (counter.real, counter.pairs) == (0, 0)


def test_callback_reports_mfu_with_the_attention_term(tmp_path: Path) -> None:
    from transformers import TrainerControl, TrainerState, TrainingArguments

    from ftui.core.runs.events import EventWriter, read_events
    from ftui.core.runs.rundir import RunPaths
    from ftui.train.callbacks import FtuiCallback

    counter = TokenCounter()
    cb = FtuiCallback(
        RunPaths(tmp_path),
        EventWriter(tmp_path),
        counter,
        {},
        None,
        peak_flops=1e9,
        flops_per_token=1e5,
        attn_flops_per_pair=1e3,
    )
    args = TrainingArguments(output_dir=str(tmp_path / "out"), use_cpu=True, report_to="none")
    state, control = TrainerState(), TrainerControl()
    cb.on_train_begin(args, state, control)
    PackingCollator(counter)([{"input_ids": [1] * 100, "labels": [1] * 100}] * 10)
    cb._t_last = time.time() - 2.0  # the 1000 tokens took 2 s
    cb.on_log(args, state, control, logs={"loss": 1.0})
    metrics = [e for e in read_events(tmp_path) if e["type"] == "metrics"][-1]
    by_hand = (1e5 * 1000 + 1e3 * 10 * 5050) / 2.0 / 1e9
    assert metrics["mfu"] == pytest.approx(by_hand, rel=1e-2)
    assert metrics["padding_efficiency"] == 1.0
