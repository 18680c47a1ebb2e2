"""bench/throughput.py counts real tokens from the batches each recipe's Trainer received, the
tuned recipes train the same tokens as ftui, and its JSON carries the figures it promises."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import bench_data  # noqa: E402
import bench_report  # noqa: E402
import recipe_runs  # noqa: E402
from recipes import Counting, Measured, Setup, row_lengths  # noqa: E402

from ftui.train.collator import DynamicPadCollator, PackingCollator, TokenCounter  # noqa: E402

ROWS = [{"input_ids": list(range(n)), "labels": list(range(n))} for n in (5, 3, 9)]


def test_counting_a_padded_batch_matches_ftuis_own_counter() -> None:
    counter, m = TokenCounter(), Measured()
    Counting(DynamicPadCollator(0, counter, 8), m)(ROWS)
    assert (m.real, m.padded, m.pairs) == (counter.real, counter.padded, counter.pairs)
    assert (m.real, m.padded) == (17, 3 * 16)


def test_counting_a_packed_batch_finds_each_sample() -> None:
    m = Measured()
    batch = Counting(PackingCollator(TokenCounter()), m)(ROWS)
    assert row_lengths(batch) == [5, 3, 9]
    assert (m.real, m.padded, m.pairs) == (17, 17, 15 + 6 + 45)


def test_counting_without_a_mask_counts_every_position() -> None:
    assert row_lengths({"input_ids": torch.zeros(2, 7, dtype=torch.long)}) == [7, 7]


def test_counting_trained_tokens_skips_prompt_and_padding_labels() -> None:
    rows = [
        {"input_ids": [1, 2, 3, 4, 5], "labels": [-100, -100, 3, 4, 5]},
        {"input_ids": [1, 2, 3], "labels": [-100, 2, 3]},
    ]
    m = Measured()
    Counting(DynamicPadCollator(0, TokenCounter(), 1), m)(rows)
    assert (m.real, m.trained, m.padded) == (8, 5, 10)


@pytest.fixture(scope="module")
def bench_setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Setup, dict[str, Any]]:
    import throughput

    from ftui.core.demo import build_tiny_model

    work = tmp_path_factory.mktemp("bench")
    model = build_tiny_model(work / "model", corpus=bench_data.corpus(60), vocab_size=512)
    rows = bench_data.context_rows(8, seed=2, input_words=4, output_words=6)
    s = throughput.make_setup(
        model, work, 8, 4, 128, cuda=False, scale=1.0, data=rows, extra={"template": "chatml"}
    )
    return s, throughput.shared_data(s, quiet=True)


def test_new_recipes_train_ftuis_tokens_and_say_their_settings(
    bench_setup: tuple[Setup, dict[str, Any]],
) -> None:
    s, shared = bench_setup
    ids, labels = shared["tokenised"]["input_ids"], shared["tokenised"]["labels"]
    real = sum(len(x) for x in ids)
    trained = sum(sum(1 for y in x if y != -100) for x in labels)
    methods = ("hf_grouped", "sft_tuned", "ftui-nologits")
    got = {m: recipe_runs.run_one(m, s, shared, "fp32") for m in methods}
    assert (got["hf_grouped"].real, got["hf_grouped"].trained) == (real, trained)
    assert (got["ftui-nologits"].real, got["ftui-nologits"].trained) == (real, trained)
    assert got["ftui-nologits"].note == ""  # FtuiTrainer took logits_on_trained_only=False
    assert got["hf_grouped"].padded < 8 * 128  # padded to each batch's longest, not max_len
    assert got["sft_tuned"].real == real  # TRL renders the same chat template
    assert 0 < got["sft_tuned"].trained < real  # the completion only
    assert got["sft_tuned"].settings["gradient_checkpointing"] == "False"
    assert got["sft_tuned"].settings["train_sampling_strategy"] == "group_by_length"
    assert got["sft_tuned"].settings["completion_only_loss"] == "True"
    assert {x.precision for x in got.values()} == {"fp32"}


def test_the_json_has_vs_sft_tuned_memory_and_the_lever_ratios() -> None:
    def med(tps: float, mem: float) -> dict[str, Any]:
        return {
            "tokens_per_s": tps,
            "tokens_per_cpu_s": tps,
            "peak_mem_gb": mem,
            "precision": "bf16",
        }

    results = {
        "smollm2-135m": {
            "sft_tuned": med(100, 4.0),
            "hf_grouped": med(110, 3.5),
            "ftui": med(140, 2.5),
            "ftui-nologits": med(120, 3.0),
            "ftui-fp32": med(70, 4.0),
        }
    }
    out = bench_report.headline(results, {"smollm2-135m": {"rows": 16, "hf_megabatch": 1}})
    row = out["models"]["smollm2-135m"]
    assert (row["vs_sft_tuned"], row["vs_hf_grouped"]) == (1.4, 1.273)
    assert (row["mem_vs_sft_tuned"], out["vs_sft_tuned"], out["mem_vs_sft_tuned"]) == (
        0.625,
        1.4,
        0.625,
    )
    assert (row["logits_lever"], row["logits_lever_mem"], row["bf16_lever"]) == (1.167, 0.833, 2.0)
    assert all("peak_mem_gb" in row[m] for m in results["smollm2-135m"])
    assert row["setup"]["hf_megabatch"] == 1


@pytest.mark.long
def test_an_isolated_run_measures_its_own_peak_not_the_parents(
    bench_setup: tuple[Setup, dict[str, Any]],
) -> None:
    s, shared = bench_setup
    held = bytearray(600 * 2**20)  # what this process holds stays out of the child's figure
    held[::4096] = b"x" * len(held[::4096])
    x = recipe_runs.Isolated().run("hf_grouped", s, shared, "fp32", 1)
    assert x.real == sum(len(r) for r in shared["tokenised"]["input_ids"])
    assert 0 < x.peak_mem_gb < len(held) / 2**30
