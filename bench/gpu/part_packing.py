"""Padding-free packing: which attention keeps packed samples apart, and which is fastest.

For each attention implementation that is there (flash-attention-2, PyTorch's flex_attention,
sdpa and eager with the per-sample masks transformers derives from position_ids), on the 1B
shape: ftui's own probe (ftui/train/packing_check.py: the second sample's logits alone, packed,
and packed behind another first sample) says whether samples stay apart; then one packed row of
alpaca-like lengths is timed forward and backward (frozen weights, gradients through the
activations as under LoRA), next to the same rows padded to the longest (sdpa).
"""

from __future__ import annotations

import importlib.util
import time
from typing import Any

from common import Part, cuda, shape_config

SHAPE = "llama-3.2-1b"
# The cheap ones first: flex_attention compiles its kernel in its warm-up, and the part's
# budget must not run out before sdpa and eager have answered.
IMPLS = ("sdpa", "eager", "flash_attention_2", "flex_attention")
LENGTHS = (1800, 950, 620, 410, 300, 240, 180, 120)  # one batch of alpaca-like rows at 2048
DRY_LENGTHS = (40, 24, 12, 6)
TOLERANCE = 1e-2  # packing_check.packing_isolates' tolerance, relative to the largest logit


def run(part: Part) -> None:
    on_gpu = cuda() and not part.dry_run
    lengths = LENGTHS if on_gpu else DRY_LENGTHS
    r = part.result
    r.update(shape=SHAPE, lengths=list(lengths), impls={})
    part.item(r, "padded_sdpa", lambda: padded(lengths, on_gpu, part.dry_run), 60)
    for impl in IMPLS:
        part.item(r["impls"], impl, lambda i=impl: check(i, lengths, on_gpu, part.dry_run), 60)  # type: ignore[misc]
        _conclude(r)


def _conclude(r: dict[str, Any]) -> None:
    ok = {k: v for k, v in r["impls"].items() if v.get("status") == "ok"}
    apart = {k: v for k, v in ok.items() if v["keeps_samples_apart"]}
    r["keeps_samples_apart"] = sorted(apart)
    r["mixes_samples"] = sorted(set(ok) - set(apart))
    r["fastest"] = min(apart, key=lambda k: apart[k]["packed_ms"]) if apart else None


def unavailable(impl: str, on_gpu: bool) -> str | None:
    if impl == "flash_attention_2":
        if not on_gpu:
            return "flash-attention-2 needs CUDA"
        if importlib.util.find_spec("flash_attn") is None:
            return "flash-attn is not installed"
    if impl == "flex_attention":
        if importlib.util.find_spec("torch.nn.attention.flex_attention") is None:
            return "this torch has no flex_attention"
        if not on_gpu:  # its kernel is built by inductor: a C++ compile of minutes on a CPU
            return "flex_attention is checked on the GPU only (inductor compiles it on a CPU)"
    return None


def build(impl: str, on_gpu: bool, dry_run: bool) -> Any:
    import torch
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    device = "cuda" if on_gpu else "cpu"
    with torch.device(device):
        model = AutoModelForCausalLM.from_config(
            shape_config(SHAPE, dry_run),
            dtype=torch.bfloat16 if on_gpu else torch.float32,
            attn_implementation=impl,
        )
    model.config.use_cache = False
    return model


def rows(lengths: tuple[int, ...], vocab: int) -> list[list[int]]:
    return [[(7 * i + 13 * k + 1) % vocab for i in range(n)] for k, n in enumerate(lengths)]


def timed_ms(fn: Any, on_gpu: bool, repeats: int = 3) -> float:
    import torch

    fn()  # warm-up: kernels, autotuning, flex_attention's compile
    times = []
    for _ in range(repeats):
        if on_gpu:
            torch.cuda.synchronize()
        t = time.perf_counter()
        fn()
        if on_gpu:
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t)
    return sorted(times)[len(times) // 2] * 1000


def fwd_bwd(model: Any, batch: dict[str, Any]) -> Any:
    def step() -> None:
        model(**batch, use_cache=False).loss.backward()

    return step


def check(impl: str, lengths: tuple[int, ...], on_gpu: bool, dry_run: bool) -> dict[str, Any]:
    import torch

    from ftui.train.packing_check import packed_logits_gap

    why = unavailable(impl, on_gpu)
    if why:
        return {"skipped": True, "reason": why}
    model = build(impl, on_gpu, dry_run)
    vocab = int(model.config.vocab_size)
    first, second = rows(lengths[:2], vocab)
    alone_gap, other_gap = packed_logits_gap(model, first[: len(first) // 2], second)
    model.requires_grad_(False)
    model.enable_input_require_grads()  # gradients flow through the activations, as under LoRA
    model.train()
    packed = [t for r in rows(lengths, vocab) for t in r]
    device = next(model.parameters()).device
    ids = torch.tensor([packed], device=device)
    pos = torch.tensor([[i for n in lengths for i in range(n)]], device=device)
    step = fwd_bwd(model, {"input_ids": ids, "position_ids": pos, "labels": ids})
    ms = timed_ms(step, on_gpu, repeats=3 if on_gpu else 1)
    del model
    return {
        "keeps_samples_apart": alone_gap <= TOLERANCE and other_gap <= TOLERANCE,
        "gap_to_alone": alone_gap,
        "gap_other_first": other_gap,
        "packed_ms": round(ms, 2),
        "packed_tokens_per_s": round(sum(lengths) / ms * 1000, 1),
    }


def padded(lengths: tuple[int, ...], on_gpu: bool, dry_run: bool) -> dict[str, Any]:
    import torch

    model = build("sdpa", on_gpu, dry_run)
    model.requires_grad_(False)
    model.enable_input_require_grads()
    model.train()
    device = next(model.parameters()).device
    longest = max(lengths)
    data = rows(lengths, int(model.config.vocab_size))
    ids = torch.tensor([r + [0] * (longest - len(r)) for r in data], device=device)
    mask = torch.tensor([[1] * len(r) + [0] * (longest - len(r)) for r in data], device=device)
    labels = ids.masked_fill(mask == 0, -100)
    batch = {"input_ids": ids, "attention_mask": mask, "labels": labels}
    ms = timed_ms(fwd_bwd(model, batch), on_gpu, repeats=3 if on_gpu else 1)
    del model
    return {
        "padded_ms": round(ms, 2),
        "padded_tokens_per_s": round(sum(lengths) / ms * 1000, 1),
        "padding_efficiency": round(sum(lengths) / (longest * len(lengths)), 4),
    }
