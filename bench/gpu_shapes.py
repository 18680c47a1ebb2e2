"""Real architectures, random weights: the GPU bench's models (no download, no licence gate).

Shapes are the published configs of Qwen2.5-0.5B, Llama-3.2-1B and Llama-3.1-8B. The
tokenizer is the bench's small BPE (ids < 4096); the embedding and LM head keep the real
vocabulary size, so the head's cost, the largest single matmul, is the real one.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

GPU_SHAPES: dict[str, dict[str, Any]] = {
    "qwen2.5-0.5b": {
        "family": "qwen2",
        "config": dict(
            hidden_size=896,
            intermediate_size=4864,
            num_hidden_layers=24,
            num_attention_heads=14,
            num_key_value_heads=2,
            vocab_size=151936,
            tie_word_embeddings=True,
            rope_theta=1e6,
            rms_norm_eps=1e-6,
        ),
        "batch": 8,
        "rows": 512,
        "min_gb": 20,
    },
    "llama-3.2-1b": {
        "family": "llama",
        "config": dict(
            hidden_size=2048,
            intermediate_size=8192,
            num_hidden_layers=16,
            num_attention_heads=32,
            num_key_value_heads=8,
            head_dim=64,
            vocab_size=128256,
            tie_word_embeddings=True,
            rope_theta=5e5,
            rms_norm_eps=1e-5,
        ),
        "batch": 8,
        "rows": 384,
        "min_gb": 30,
    },
    "llama-3.1-8b": {
        "family": "llama",
        "config": dict(
            hidden_size=4096,
            intermediate_size=14336,
            num_hidden_layers=32,
            num_attention_heads=32,
            num_key_value_heads=8,
            head_dim=128,
            vocab_size=128256,
            tie_word_embeddings=False,
            rope_theta=5e5,
            rms_norm_eps=1e-5,
        ),
        "batch": 2,
        "rows": 96,
        "min_gb": 75,
    },
}


def fits(shape: str) -> bool:
    import torch

    total = torch.cuda.get_device_properties(0).total_memory / 2**30
    return total >= GPU_SHAPES[shape]["min_gb"]


def build_random_model(
    shape: str,
    out: Path,
    tokenizer_dir: Path,
    corpus: list[str],
    device: str = "cuda",
    overrides: dict[str, Any] | None = None,
) -> Path:
    """Write `shape` with random bf16 weights plus the bench tokenizer to `out` (once),
    initialised on `device`; `overrides` change config fields (the GPU suite's dry run
    shrinks the dimensions and keeps the family)."""
    import torch
    from transformers import AutoModelForCausalLM, LlamaConfig, Qwen2Config

    from ftui.core.demo import build_tiny_model
    from ftui.core.model.tokenizer import load_tokenizer

    if (out / "config.json").is_file() and any(out.glob("*.safetensors")):
        return out
    if not (tokenizer_dir / "tokenizer.json").is_file():
        build_tiny_model(
            tokenizer_dir, corpus=corpus, vocab_size=4096, hidden_size=64, num_layers=1
        )
    tok = load_tokenizer(tokenizer_dir)
    spec = GPU_SHAPES[shape]
    cls = Qwen2Config if spec["family"] == "qwen2" else LlamaConfig
    config = cls(
        **{**spec["config"], **(overrides or {})},
        max_position_embeddings=32768,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )
    torch.manual_seed(0)
    with torch.device(device):
        model = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp, safe_serialization=True)
    tok.save_pretrained(tmp)
    del model
    if device == "cuda":
        torch.cuda.empty_cache()
    tmp.rename(out)
    return out
