"""Real tokens/s of three LoRA fine-tuning recipes, side by side, on the same model and data.

    python bench/throughput.py            # CPU: tiny Llama, alpaca-like data, ~4 min on 2 cores
    python bench/throughput.py --gpu      # GPU (auto when CUDA is there): Qwen2.5-0.5B and
                                          # Llama-3.2-1B shapes (+ Llama-3.1-8B when it fits),
                                          # random init, sequence length 2048, with MFU

(a) `padded`: the usual hand-written recipe, HF Trainer with every row padded to max_length;
(b) `sft`: TRL's SFTTrainer with its defaults; (c) `ftui`: ftui's worker path in-process
(dynamic padding + length-grouped batches, its TrainingArguments and monitoring callback),
and `ftui+packing` (data.packing: padding-free rows). All train one epoch of the same rows
with LoRA r 16 on all linear layers and the same batch size. Figures are medians of --runs
runs, interleaved so that machine noise hits every recipe alike. The last line is JSON:
`vs_padded` and `vs_sft` are ftui's real tokens/s over (a) and (b).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import bench_data  # noqa: E402
import recipes  # noqa: E402
from gpu_shapes import GPU_SHAPES, build_random_model, fits  # noqa: E402

METHODS = ("padded", "sft", "ftui", "ftui+packing")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--gpu", action="store_true", help="GPU mode (default when CUDA is there)")
    mode.add_argument("--cpu", action="store_true", help="CPU mode even when CUDA is there")
    p.add_argument("--runs", type=int, default=3, help="timed runs per recipe (median)")
    p.add_argument("--rows", type=int, default=None, help="rows per run (default by mode)")
    p.add_argument("--batch", type=int, default=None, help="per-device batch (default by mode)")
    p.add_argument("--methods", default=",".join(METHODS), help="comma-separated subset")
    p.add_argument(
        "--models", default=None, help="GPU shapes, comma-separated: " + ", ".join(GPU_SHAPES)
    )
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="CPU mode torch threads (default: all cores, or 1 when the machine is busy)",
    )
    p.add_argument("--work", type=Path, default=None, help="scratch dir (default: a temp dir)")
    args = p.parse_args()

    import torch

    cuda = torch.cuda.is_available() and not args.cpu
    if args.gpu and not cuda:
        p.error("--gpu: no CUDA device here")
    work = args.work or Path(tempfile.mkdtemp(prefix="ftui-bench-"))
    os.environ.setdefault("FTUI_HOME", str(work / "ftui_home"))
    methods = [m for m in args.methods.split(",") if m]
    if cuda:
        shapes = (args.models or ",".join(GPU_SHAPES)).split(",")
        results = {s: bench_gpu_shape(s, args, work, methods) for s in shapes}
        results = {k: v for k, v in results.items() if v is not None}
    else:
        results = {"tiny-llama": bench_cpu(args, work, methods)}
    summary = headline(results)
    print(json.dumps(summary))
    return 0


def bench_cpu(args: argparse.Namespace, work: Path, methods: list[str]) -> dict[str, Any]:
    import torch

    from ftui.core.demo import build_tiny_model

    cores = os.cpu_count() or 1
    busy = os.getloadavg()[0] > cores / 2
    # Two threads on two cores that other processes also use spend their time waiting for
    # each other (a step took 6x longer than with one thread here): one thread when busy.
    torch.set_num_threads(args.threads or (1 if busy else cores))
    model_dir = build_tiny_model(
        work / "cpu-model",
        corpus=bench_data.corpus(),
        vocab_size=4096,
        hidden_size=192,
        num_layers=4,
    )
    s = make_setup(model_dir, work, args.rows or 96, args.batch or 8, 512, cuda=False, scale=1.0)
    print(
        f"CPU mode: {platform.machine()}, {cores} cores, load average {os.getloadavg()[0]:.1f}, "
        f"{torch.get_num_threads()} torch threads, torch {torch.__version__}"
    )
    return compare(
        s, methods, args.runs, peak_flops=None, label="tiny-llama (hidden 192, 4 layers)"
    )


def bench_gpu_shape(shape: str, args: argparse.Namespace, work: Path, methods: list[str]):  # type: ignore[no-untyped-def]
    import torch

    from ftui.train.build import gpu_peak_flops

    batch, rows = GPU_SHAPES[shape]["batch"], GPU_SHAPES[shape]["rows"]
    if not fits(shape):
        print(f"{shape}: skipped, not enough GPU memory")
        return None
    tok_dir = work / "tokenizer"
    model_dir = build_random_model(shape, work / shape, tok_dir, bench_data.corpus())
    s = make_setup(
        model_dir,
        work / f"{shape}-data",
        args.rows or rows,
        args.batch or batch,
        2048,
        cuda=True,
        scale=3.0,
    )
    print(f"GPU mode: {torch.cuda.get_device_name()}, {shape}, sequence length 2048")
    return compare(s, methods, args.runs, peak_flops=gpu_peak_flops(), label=shape)


def make_setup(
    model_dir: Path, work: Path, rows: int, batch: int, max_len: int, cuda: bool, scale: float
) -> recipes.Setup:
    from ftui.core.model.tokenizer import load_tokenizer

    data = bench_data.write_jsonl(work / "data.jsonl", bench_data.rows(rows, seed=1, scale=scale))
    pad = load_tokenizer(model_dir).pad_token_id  # EOS when the model has no pad token
    return recipes.Setup(model_dir, data, batch, max_len, work, cuda, rows, {"pad_id": pad})


def run_one(method: str, s: recipes.Setup, shared: dict[str, Any]) -> recipes.Measured:
    if method == "padded":
        return recipes.padded_recipe(s, shared["tokenised"])
    if method == "sft":
        return recipes.sft_recipe(s, shared["raw"])
    return recipes.ftui_recipe(s, packing=method == "ftui+packing")


def shared_data(s: recipes.Setup, quiet: bool = False) -> dict[str, Any]:
    """ftui's tokenisation (for the padded recipe: the same tokens) and the raw rows (SFT)."""
    import datasets

    from ftui.train.build import build_datasets, build_tokenizer

    spec = recipes.ftui_spec(s, packing=False)
    tok, tok_dir = build_tokenizer(spec)
    tokenised, _, stats, _ = build_datasets(spec, tok, tok_dir)
    raw = datasets.load_dataset("json", data_files=str(s.data_file), split="train")
    lengths = sorted(stats.lengths)
    if not quiet:
        print(
            f"data: {s.rows} alpaca-like rows, tokens per row mean {statistics.mean(lengths):.0f}, "
            f"median {lengths[len(lengths) // 2]}, p90 {lengths[int(0.9 * len(lengths))]}, "
            f"max {lengths[-1]} (truncated at {s.max_len}: {stats.truncated} rows)"
        )
    return {"tokenised": tokenised.select_columns(["input_ids", "labels"]), "raw": raw}


def compare(
    s: recipes.Setup, methods: list[str], runs: int, peak_flops: float | None, label: str
) -> dict[str, Any]:
    import torch

    from ftui.train.flops import flop_model_for, mfu

    shared = shared_data(s)
    warm = recipes.Setup(
        **{
            **s.__dict__,
            "data_file": s.data_file.with_name("warm.jsonl"),
            "work": s.work / "warm",
            "rows": 2 * s.batch,
        }
    )
    rows = [json.loads(x) for x in s.data_file.read_text().splitlines()[: 2 * s.batch]]
    bench_data.write_jsonl(warm.data_file, rows)
    warm_shared = shared_data(warm, quiet=True)
    for m in methods:  # one short untimed run each: imports, kernels, allocator warm-up
        run_one(m, warm, warm_shared)
    measured: dict[str, list[dict[str, float]]] = {m: [] for m in methods}
    failed: dict[str, str] = {}
    for r in range(runs):
        for m in [m for m in methods if m not in failed]:
            try:
                x = run_one(m, s, shared)
            except torch.OutOfMemoryError as exc:  # a recipe that does not fit is a result too
                failed[m] = f"out of memory: {str(exc).splitlines()[0][:120]}"
                print(f"  run {r + 1}/{runs} {m:<13} OUT OF MEMORY", flush=True)
                measured.pop(m, None)
                torch.cuda.empty_cache()
                continue
            row = {
                "tokens_per_s": x.tokens_per_s,
                "padding_efficiency": x.real / x.padded if x.padded else 0.0,
                "peak_mem_gb": x.peak_mem_gb,
                "seconds": x.seconds,
                "tokens_per_cpu_s": x.real / x.cpu_seconds if x.cpu_seconds else 0.0,
                "monitor_share": x.monitor_seconds / x.seconds if x.seconds else 0.0,
            }
            if peak_flops:
                fm = flop_model_for(x.model, full=False)
                row["mfu"] = mfu(fm, x.real, x.pairs, x.seconds, peak_flops)
            x.model = None
            measured[m].append(row)
            print(
                f"  run {r + 1}/{runs} {m:<13} {row['tokens_per_s']:>9.0f} real tok/s "
                f"in {row['seconds']:.1f} s",
                flush=True,
            )
    med = {m: {k: statistics.median(v[k] for v in rs) for k in rs[0]} for m, rs in measured.items()}
    print_table(label, med)
    for m, why in failed.items():
        print(f"{m}: {why}")
    return med


def print_table(label: str, med: dict[str, dict[str, float]]) -> None:
    base_p, base_s = (
        med.get("padded", {}).get("tokens_per_s"),
        med.get("sft", {}).get("tokens_per_s"),
    )
    print(f"\n{label}: medians")
    print(
        f"{'recipe':<14}{'real tok/s':>11}{'vs padded':>10}{'vs sft':>8}{'pad eff':>9}"
        f"{'peak mem GB':>12}{'mfu':>7}{'tok/CPU-s':>11}"
    )
    for m, v in med.items():
        tps = v["tokens_per_s"]
        vp = f"{tps / base_p:.2f}x" if base_p else "-"
        vs = f"{tps / base_s:.2f}x" if base_s else "-"
        mf = f"{v['mfu']:.1%}" if "mfu" in v else "-"
        print(
            f"{m:<14}{tps:>11.0f}{vp:>10}{vs:>8}{v['padding_efficiency']:>9.3f}"
            f"{v['peak_mem_gb']:>12.2f}{mf:>7}{v['tokens_per_cpu_s']:>11.0f}"
        )
    if "ftui" in med:
        print(
            f"ftui monitoring (its callback's hooks): {med['ftui']['monitor_share']:.4%} of the "
            "training time"
        )
    print()


def headline(results: dict[str, dict[str, dict[str, float]]]) -> dict[str, Any]:
    """ftui's default path (dynamic padding) against (a) and (b); the worst model counts."""
    out: dict[str, Any] = {"models": {}}
    for name, med in results.items():
        f = med.get("ftui") or med.get("ftui+packing") or {}
        tps = f.get("tokens_per_s")
        row = {m: {k: round(v, 4) for k, v in x.items()} for m, x in med.items()}
        if tps and "padded" in med:
            row["vs_padded"] = round(tps / med["padded"]["tokens_per_s"], 3)
        if tps and "sft" in med:
            row["vs_sft"] = round(tps / med["sft"]["tokens_per_s"], 3)
        if not any("mfu" in x for x in med.values()):  # CPU: the same ratios in CPU time
            for other in ("padded", "sft"):
                if other in med and f.get("tokens_per_cpu_s"):
                    row[f"vs_{other}_cpu_time"] = round(
                        f["tokens_per_cpu_s"] / med[other]["tokens_per_cpu_s"], 3
                    )
        if "ftui+packing" in med and "sft" in med:
            row["packing_vs_sft"] = round(
                med["ftui+packing"]["tokens_per_s"] / med["sft"]["tokens_per_s"], 3
            )
        row["padding_efficiency"] = round(f.get("padding_efficiency", 0.0), 4)
        out["models"][name] = row
    for key in ("vs_padded", "vs_sft", "padding_efficiency"):
        vals = [r[key] for r in out["models"].values() if key in r]
        out[key] = min(vals) if vals else None
    return out


if __name__ == "__main__":
    raise SystemExit(main())
