"""Model FLOPs for MFU: a dense term per token plus an attention term per (query, key) pair.

Training one token through a model with N matmul parameters costs about 6N FLOPs when every
weight is trained (forward 2N, backward 2N for the input gradients and 2N for the weight
gradients) and about 4N with LoRA (the frozen weights need no weight gradients; the adapters
are negligible). Attention adds, per layer and per (query, key) pair the causal mask keeps,
2·d for QKᵀ and 2·d for AV in the forward pass and twice that backward: 12·d per pair per
layer, d = heads × head_dim of the queries, trained or not. A row of S tokens has S(S+1)/2
causal pairs. Only real tokens and pairs count (model FLOPs, not what padding or
recomputation costs), so MFU is useful work over the GPU's dense bf16 peak.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FlopModel:
    dense_per_token: float
    attn_per_pair: float

    def flops(self, tokens: float, pairs: float) -> float:
        return self.dense_per_token * tokens + self.attn_per_pair * pairs


def causal_pairs(length: int) -> int:
    """(query, key) pairs a causal mask keeps in a row of `length` tokens."""
    return length * (length + 1) // 2


def matmul_params(model: Any) -> int:
    """Weights that do a matmul per token: every nn.Linear once (in x out, so quantised and
    peft-wrapped layers count their logical size), never an embedding lookup. peft's frozen
    copy of a `modules_to_save` module is not run, so it is not counted."""
    import torch

    total = 0
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Linear) and ".original_module" not in f".{name}.":
            total += int(module.in_features) * int(module.out_features)
    return total


def attention_width(config: Any) -> tuple[int, int]:
    """(layers, heads x head_dim of the queries) from a transformers config."""
    config = getattr(config, "text_config", None) or config
    layers = int(config.num_hidden_layers)
    heads = int(config.num_attention_heads)
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // heads
    return layers, heads * int(head_dim)


def flop_model(n_matmul_params: int, layers: int, attn_dim: int, full: bool) -> FlopModel:
    return FlopModel(
        dense_per_token=float((6 if full else 4) * n_matmul_params),
        attn_per_pair=float(12 * layers * attn_dim),
    )


def flop_model_for(model: Any, full: bool) -> FlopModel:
    layers, attn_dim = attention_width(model.config)
    return flop_model(matmul_params(model), layers, attn_dim, full)


def mfu(fm: FlopModel, tokens: float, pairs: float, seconds: float, peak_flops: float) -> float:
    """Model FLOPs utilisation: `peak_flops` is the dense peak of every GPU doing the work."""
    return fm.flops(tokens, pairs) / max(seconds, 1e-9) / peak_flops
