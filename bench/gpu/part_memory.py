"""Memory: ftui's estimate (ftui/core/check/memory.py) against what a few real training steps
take, for the three shapes, LoRA and full, with and without gradient checkpointing.

On a GPU the measured figure is torch.cuda.max_memory_allocated over steps 2-3 (the optimizer
states exist from step 1 on, as in a real run) and the estimate is taken without its CUDA
context, which the allocator does not see. The model is built and stepped the way
bench/memory_estimate.py does it (the worker's dtypes, bf16 autocast, fused AdamW). In the dry
run the figure is the process's peak RSS on the CPU against the CPU estimate: the same code
path, not a comparable number.
"""

from __future__ import annotations

import tempfile
from typing import Any

from common import Part, cuda, shape_config

SHAPES = ("qwen2.5-0.5b", "llama-3.2-1b", "llama-3.1-8b")
BATCH = {"qwen2.5-0.5b": 4, "llama-3.2-1b": 4, "llama-3.1-8b": 1}
SEQ_LEN = 2048
GiB = 2**30


def cases(dry_run: bool) -> list[tuple[str, str, bool]]:
    return [(s, k, gc) for s in SHAPES for k in ("lora", "full") for gc in (False, True)]


def run(part: Part) -> None:
    import torch

    on_gpu = cuda() and not part.dry_run
    free = torch.cuda.mem_get_info()[0] if on_gpu else None
    part.result.update(
        device="cuda" if on_gpu else "cpu",
        measured_as="torch.cuda.max_memory_allocated" if on_gpu else "peak RSS (dry run)",
        seq_len=SEQ_LEN if on_gpu else 32,
        cases={},
    )
    for shape, kind, gc in cases(part.dry_run):
        key = f"{shape} {kind}{' gc' if gc else ''}"
        part.item(
            part.result["cases"],
            key,
            lambda s=shape, k=kind, g=gc: case(s, k, g, on_gpu, free, part),  # type: ignore[misc]
            90,
        )


def make_spec(shape: str, kind: str, gc: bool, on_gpu: bool) -> Any:
    from ftui.core.spec import spec_from_dict

    lora = {"r": 16, "alpha": 32, "dropout": 0.05, "target_modules": "all-linear"}
    return spec_from_dict(
        {
            "model": {"dtype": "bf16" if on_gpu else "fp32"},
            "data": {"max_seq_len": SEQ_LEN if on_gpu else 32},
            "method": {"kind": kind, "lora": lora},
            "train": {
                "per_device_batch_size": BATCH[shape] if on_gpu else 2,
                "gradient_checkpointing": gc,
            },
        }
    )


def case(shape: str, kind: str, gc: bool, on_gpu: bool, free: int | None, part: Part) -> Any:
    from ftui.core.check.memory import CUDA_CONTEXT, estimate_memory
    from ftui.core.model.facts import inspect_model

    spec = make_spec(shape, kind, gc, on_gpu)
    config = shape_config(shape, part.dry_run)
    with tempfile.TemporaryDirectory() as d:
        config.save_pretrained(d)
        facts = inspect_model(d)
    est = estimate_memory(spec, facts, 1, device="cuda" if on_gpu else "cpu")
    estimate = est.total - CUDA_CONTEXT if on_gpu else est.total
    row: dict[str, Any] = {
        "batch": spec.train.per_device_batch_size,
        "seq_len": spec.data.max_seq_len,
        "estimate_gib": round(estimate / GiB, 3),
        "estimate_parts_gib": {k: round(v / GiB, 3) for k, v in est.breakdown()},
    }
    if free is not None and est.total > 0.9 * free:
        return {**row, "fits": False, "reason": "the estimate is over 90% of the free memory"}
    measured = measure(spec, config, on_gpu, steps=3 if on_gpu else 2)
    return {
        **row,
        "fits": True,
        "measured_gib": round(measured / GiB, 3),
        "ratio": round(estimate / measured, 4),  # estimate over measured: > 1 over-estimates
    }


def measure(spec: Any, config: Any, on_gpu: bool, steps: int = 3) -> int:
    import torch
    from memory_estimate import build
    from recipes import PeakMemory

    device = "cuda" if on_gpu else "cpu"
    model = build(spec, config, device)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-5, fused=on_gpu)
    shape = (spec.train.per_device_batch_size, spec.data.max_seq_len)

    def step() -> None:
        ids = torch.randint(0, config.vocab_size, shape, device=device)
        with torch.autocast(device, dtype=torch.bfloat16, enabled=on_gpu):
            loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    step()  # the optimizer states exist from here on, as in a real run
    with PeakMemory(on_gpu) as mem:
        for _ in range(steps - 1):
            step()
        if on_gpu:
            torch.cuda.synchronize()
    return int(mem.peak)  # model and optimizer go with this frame; Part.item then frees memory
