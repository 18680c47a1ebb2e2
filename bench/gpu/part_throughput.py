"""Throughput: one trainer.train() per recipe on the same rows (alpaca-like lengths, max_seq_len
2048), the same LoRA (r 16, all linear layers) and batch size, TRL and ftui interleaved.

    trl_default   TRL SFTTrainer, its defaults (gradient checkpointing on, no length grouping)
    trl_tuned     TRL without gradient checkpointing, length-grouped, and its padding-free mode
                  (BFD packing) where the attention supports it (flash-attention-2)
    ftui          ftui's worker path (dynamic padding, length-grouped batches), Liger off
    ftui_liger    the same with Liger's fused linear cross-entropy (ftui's default on CUDA
                  when liger-kernel is installed)
    ftui_packing  ftui with data.packing (padding-free rows)
    ftui_compile  ftui with train.torch_compile (compile time inside the one timed run)

Figures: real (non-padding) tokens/s over the trainer.train() wall time, MFU (ftui/train/flops.py,
4N accounting, against the GPU's dense bf16 peak), padding efficiency, peak memory.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

from common import Part, cuda, model_dir

# Per shape: its rows and batch (the 8B shape runs fewer recipes on fewer rows).
SHAPES: dict[str, dict[str, Any]] = {
    "llama-3.2-1b": {"rows": 384, "batch": 8},
    "llama-3.1-8b": {"rows": 96, "batch": 2},
}
# The run order: TRL and ftui interleaved; torch_compile (a compile of a minute or more) last,
# so that it can only spend what the other figures left of the part's budget.
ORDER = [
    ("llama-3.2-1b", "trl_default"),
    ("llama-3.2-1b", "ftui"),
    ("llama-3.2-1b", "trl_tuned"),
    ("llama-3.2-1b", "ftui_liger"),
    ("llama-3.2-1b", "ftui_packing"),
    ("llama-3.1-8b", "trl_default"),
    ("llama-3.1-8b", "ftui"),
    ("llama-3.1-8b", "ftui_liger"),
    ("llama-3.2-1b", "ftui_compile"),
]
CAP_S = {"ftui_compile": 150}  # each other recipe: 90 s on the GPU
DRY = {"shape": "llama-3.2-1b", "rows": 8, "batch": 4, "max_len": 256}


def run(part: Part) -> None:
    from ftui.train.build import gpu_peak_flops

    on_gpu = cuda() and not part.dry_run
    peak = gpu_peak_flops() if on_gpu else None
    part.result.update(device="cuda" if on_gpu else "cpu", peak_flops=peak, shapes={})
    shapes = {DRY["shape"]: DRY} if part.dry_run else SHAPES
    ready: dict[str, Any] = {}
    for shape, name in [(s, n) for s, n in ORDER if s in shapes]:
        plan = shapes[shape]
        entry = part.result["shapes"].setdefault(
            shape, {"rows": plan["rows"], "batch": plan["batch"], "recipes": {}}
        )
        if shape not in ready:
            setup = part.item(entry, "setup", lambda s=shape, p=plan: prepare(part, s, p), 240)  # type: ignore[misc]
            ready[shape] = setup and (setup.pop("_setup"), setup.pop("_shared"))
            if ready[shape] and len(ready) == 1:  # CUDA, cuBLAS and the allocator: once
                part.item(entry, "warm_up", lambda s=ready[shape][0]: warm_up(s), 120)  # type: ignore[misc]
        if not ready[shape]:
            entry["recipes"][name] = {"status": "skipped", "reason": "its setup did not finish"}
            continue
        s, shared = ready[shape]
        cap = CAP_S.get(name, 90) if on_gpu else 60
        part.item(
            entry["recipes"],
            name,
            lambda n=name, s=s, sh=shared: measure(n, s, sh, peak, part.dry_run),  # type: ignore[misc]
            cap,
        )
        entry["vs_trl_default"] = ratios(entry["recipes"])
        part.save()


def prepare(part: Part, shape: str, plan: dict[str, Any]) -> dict[str, Any]:
    from throughput import make_setup, shared_data

    on_gpu = cuda() and not part.dry_run
    mdir = model_dir(shape, part.work, part.dry_run)
    max_len = plan.get("max_len", 2048)
    s = make_setup(
        mdir,
        part.work / f"{shape}-data",
        plan["rows"],
        plan["batch"],
        max_len,
        cuda=on_gpu,
        scale=3.0 if on_gpu else 1.0,
    )
    shared = shared_data(s, quiet=True)
    lengths = [len(x) for x in shared["tokenised"]["input_ids"]]
    return {
        "max_seq_len": max_len,
        "row_tokens_mean": round(sum(lengths) / len(lengths), 1),
        "row_tokens_max": max(lengths),
        "_setup": s,
        "_shared": shared,
    }


def warm_up(s: Any) -> dict[str, Any]:
    """One short untimed ftui run: CUDA context, cuBLAS handles, the allocator's first pools."""
    import json

    import bench_data
    import recipes

    rows = [json.loads(x) for x in s.data_file.read_text().splitlines()[: 2 * s.batch]]
    warm = recipes.Setup(
        **{**s.__dict__, "data_file": s.data_file.with_name("warm.jsonl"), "work": s.work / "warm"}
    )
    bench_data.write_jsonl(warm.data_file, rows)
    x = recipes.ftui_recipe(warm, packing=False, tune=_no_liger)
    return {"seconds": round(x.seconds, 2)}


def _no_liger(spec: Any, args: Any) -> None:
    if args is not None:
        args.use_liger_kernel = False
        args.liger_kernel_config = None


def _tuner(name: str, dry_run: bool) -> Callable[[Any, Any], None]:
    def tune(spec: Any, args: Any) -> None:
        if name == "ftui_compile":
            spec.train.torch_compile = True
            if args is not None and dry_run:  # the same path, one step: inductor's C++ build
                args.torch_compile_backend = "eager"  # and dynamo's recompiles take minutes
                args.max_steps = 1
        if name != "ftui_liger":
            _no_liger(spec, args)
        elif args is not None and not args.use_liger_kernel:
            raise RuntimeError("ftui did not turn Liger on (liger-kernel missing or no CUDA)")

    return tune


def trl_tuned_config() -> dict[str, Any]:
    out: dict[str, Any] = {
        "gradient_checkpointing": False,
        "train_sampling_strategy": "group_by_length",
    }
    if cuda() and importlib.util.find_spec("flash_attn") is not None:
        out.update(
            packing=True,
            packing_strategy="bfd",
            padding_free=True,
            model_init_kwargs={"attn_implementation": "flash_attention_2"},
        )
    return out


def skip_reason(name: str, dry_run: bool) -> str | None:
    if name.startswith("trl") and importlib.util.find_spec("trl") is None:
        return "trl is not installed"
    if name == "ftui_liger":
        if not cuda() or dry_run:
            return "Liger's kernels need CUDA (Triton on a GPU): not run on the CPU"
        if importlib.util.find_spec("liger_kernel") is None:
            return "liger-kernel is not installed"
    return None


def measure(name: str, s: Any, shared: dict[str, Any], peak: float | None, dry_run: bool) -> Any:
    import recipes

    from ftui.train.flops import flop_model_for, mfu

    why = skip_reason(name, dry_run)
    if why:
        return {"skipped": True, "reason": why}
    settings: dict[str, Any] = {}
    if name == "trl_default":
        settings = {"bf16": False} if dry_run else {}  # CPU: fp32, as ftui trains there
        x = recipes.sft_recipe(s, shared["raw"], tuned=settings or None)
    elif name == "trl_tuned":
        settings = {**trl_tuned_config(), **({"bf16": False} if dry_run else {})}
        x = recipes.sft_recipe(s, shared["raw"], tuned=settings)
    else:
        x = recipes.ftui_recipe(s, packing=name == "ftui_packing", tune=_tuner(name, dry_run))
    out: dict[str, Any] = {
        "tokens_per_s": round(x.tokens_per_s, 1),
        "real_tokens": x.real,
        "padded_tokens": x.padded,
        "padding_efficiency": round(x.real / x.padded, 4) if x.padded else None,
        "seconds": round(x.seconds, 3),
        "peak_mem_gib": round(x.peak_mem_gb, 3),
        "settings": {k: str(v) for k, v in settings.items()},
    }
    if peak:
        fm = flop_model_for(x.model, full=False)
        out["mfu"] = round(mfu(fm, x.real, x.pairs, x.seconds, peak), 4)
    x.model = None
    return out


def ratios(results: dict[str, Any]) -> dict[str, float]:
    """Each measured recipe's real tokens/s over TRL SFTTrainer defaults'."""
    base = results.get("trl_default", {}).get("tokens_per_s")
    if not base:
        return {}
    return {
        k: round(v["tokens_per_s"] / base, 3)
        for k, v in results.items()
        if v.get("status") == "ok" and v.get("tokens_per_s")
    }
