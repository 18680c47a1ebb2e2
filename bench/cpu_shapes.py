"""The CPU bench's models, each with its rows, batch, max length and recipes.

- `tiny`: a random Llama (hidden 192 × 4 layers, vocab 4096) with the bench's own tokenizer,
  alpaca-like rows (`bench_data.rows`), ftui's chatml template;
- `smollm2-135m`: the real SmolLM2-135M-Instruct from ftui's fetched artefacts (weights,
  tokenizer, its ChatML chat template; llama, 30 layers, hidden 576, vocab 49152, tied
  embeddings), alpaca rows with an input passage (`bench_data.context_rows`: 140 tokens a
  row on average, a third of them trained), and the lever rows.

Rows, runs and recipes are chosen so that both shapes take about 10 minutes on two quiet
cores: the SmolLM2 shape skips the two slow baselines (`padded`, TRL defaults), the tiny one
the lever rows; `--methods` runs any. With so few rows, transformers' LengthGroupedSampler
(used by sft_tuned and hf_grouped) cannot group: it sorts within megabatches of
min(rows // (4 * batch), 50) batches: 1 (no grouping) on the SmolLM2 shape's 16 rows, 2 on
the tiny one's 64 (`hf_megabatch` in the output); on 200 batches or more it is 50.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bench_data

SMOLLM2 = "smollm2-135m-instruct"
# What the real model must be for the shape's name to be true.
SMOLLM2_CONFIG = dict(
    model_type="llama",
    num_hidden_layers=30,
    hidden_size=576,
    vocab_size=49152,
    tie_word_embeddings=True,
)


@dataclass(frozen=True)
class CpuShape:
    label: str
    rows: int
    batch: int
    max_len: int
    runs: int
    methods: tuple[str, ...]


def hf_megabatch(rows: int, batch: int) -> int:
    """Batches per megabatch of transformers' get_length_grouped_indices (1: no grouping)."""
    return max(1, min(rows // (batch * 4), 50))


CPU_SHAPES: dict[str, CpuShape] = {
    "tiny": CpuShape(
        label="tiny-llama (random, hidden 192, 4 layers, vocab 4096)",
        rows=64,
        batch=8,
        max_len=512,
        runs=3,
        methods=("padded", "sft", "sft_tuned", "hf_grouped", "ftui"),
    ),
    "smollm2-135m": CpuShape(
        label="SmolLM2-135M-Instruct (real weights; llama, hidden 576, 30 layers, vocab 49152)",
        rows=16,
        batch=4,
        max_len=512,
        runs=3,
        methods=("sft_tuned", "hf_grouped", "ftui", "ftui-nologits", "ftui-fp32"),
    ),
}


def prepare(name: str, work: Path, rows: int) -> tuple[Path, list[dict[str, str]], dict[str, Any]]:
    """(model dir, the rows, Setup.extra) of a CPU shape; the tiny model is built in `work`."""
    if name == "tiny":
        from ftui.core.demo import build_tiny_model

        model_dir = build_tiny_model(
            work / "cpu-model",
            corpus=bench_data.corpus(),
            vocab_size=4096,
            hidden_size=192,
            num_layers=4,
        )
        return model_dir, bench_data.rows(rows, seed=1), {"template": "chatml"}
    model_dir = smollm2_dir()
    return model_dir, bench_data.context_rows(rows, seed=1), {"template": "tokenizer"}


def smollm2_dir() -> Path:
    """The fetched SmolLM2 model, checked against the shape the bench names."""
    from transformers import AutoConfig

    from ftui.core.model import artefacts

    model_dir = artefacts.path(SMOLLM2)  # ArtefactMissing names `ftui fetch ...` when absent
    config = AutoConfig.from_pretrained(model_dir)
    wrong = {
        k: getattr(config, k, None)
        for k, v in SMOLLM2_CONFIG.items()
        if getattr(config, k, None) != v
    }
    if wrong:
        raise SystemExit(f"{model_dir}: not the SmolLM2-135M shape the bench names: {wrong}")
    return model_dir
