"""Does this model keep packed samples apart? Checked on the model itself, not assumed.

Padding-free packing puts several samples in one row with position_ids restarting at each
sample and no attention mask. transformers turns those position_ids into a block-diagonal
causal mask for sdpa, eager and flex attention, and into variable-length kernels for
flash-attention-2; an attention function it has no mask for (a custom or hub kernel, remote
code) sees no mask at all and lets a sample attend to the one packed before it. The probe runs
two short rows packed and alone and compares the second row's logits: equal means isolated.
"""

from __future__ import annotations

import sys
from typing import Any

# Attention implementations whose packed path cannot be probed on the host (CUDA-only
# kernels while the model still sits on the CPU) but that derive sequence boundaries
# from position_ids in transformers' own code.
TRUSTED_WITHOUT_PROBE = frozenset({"flash_attention_2", "flash_attention_3"})


def attn_implementation(model: Any) -> str:
    config = getattr(model, "config", None)
    return str(getattr(config, "_attn_implementation", None) or "eager")


def packed_logits_gap(model: Any, first: list[int], second: list[int]) -> tuple[float, float]:
    """(gap to the row alone, gap when the first row changes) for the second row's logits.

    Both are max absolute differences. Isolated attention gives ~0 for both; leaking attention
    changes the second row's logits when the first row changes."""
    import torch

    device = next(model.parameters()).device
    other = [(t + 7) % max(2, _vocab(model)) for t in first]

    def run(rows: list[list[int]]) -> Any:
        ids = torch.tensor([[t for r in rows for t in r]], device=device)
        pos = torch.tensor([[i for r in rows for i in range(len(r))]], device=device)
        return (
            model(input_ids=ids, position_ids=pos, use_cache=False)
            .logits[0, -len(second) :]
            .float()
        )

    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            alone = run([second])
            packed = run([first, second])
            packed_other = run([other, second])
    finally:
        model.train(was_training)
    scale = max(float(alone.abs().max()), 1e-6)
    return (
        float((packed - alone).abs().max()) / scale,
        float((packed - packed_other).abs().max()) / scale,
    )


def _vocab(model: Any) -> int:
    return int(getattr(model.config, "vocab_size", 0) or 0) or int(
        model.get_input_embeddings().weight.shape[0]
    )


def packing_isolates(model: Any, tolerance: float = 1e-2) -> bool:
    """True when packed samples cannot see each other in this model (see module docstring).

    The tolerance is relative to the largest logit, loose enough for bf16 kernels on shapes
    that differ between the packed and the lone run, far below what attending to another
    sample does to a model's logits."""
    if attn_implementation(model) in TRUSTED_WITHOUT_PROBE:
        return True
    vocab = _vocab(model)
    first = [(11 * i + 3) % vocab for i in range(6)]
    second = [(5 * i + 1) % vocab for i in range(5)]
    alone_gap, other_gap = packed_logits_gap(model, first, second)
    return alone_gap <= tolerance and other_gap <= tolerance


def packing_usable(spec: Any, model: Any | None) -> bool:
    """data.packing, unless this model's attention would let packed samples see each other
    (checked on the model itself, above); then rows are padded instead."""
    if not spec.data.packing:
        return False
    if model is None:
        return True
    if packing_isolates(model):
        if attn_implementation(model) not in TRUSTED_WITHOUT_PROBE:
            print(
                f"data.packing with {attn_implementation(model)!r} attention: each packed row "
                "is attended as a whole under a block-diagonal mask, so attention costs grow "
                "with the square of the batch's total length; flash-attention-2 makes packing "
                "free, and without it dynamic padding is usually faster (bench/throughput.py)",
                file=sys.stderr,
            )
        return True
    print(
        f"data.packing: the {attn_implementation(model)!r} attention of this model does not keep "
        "packed samples apart; padding each batch to its longest row instead",
        file=sys.stderr,
    )
    return False
