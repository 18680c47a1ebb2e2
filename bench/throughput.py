"""Real tokens/s of LoRA fine-tuning recipes, side by side, on the same model and data.

    python bench/throughput.py --shape smollm2-135m,tiny   # CPU (`make bench`): ~10 min on 2 cores
    python bench/throughput.py                             # CPU: the tiny shape only
    python bench/throughput.py --gpu      # GPU (auto when CUDA is there): Qwen2.5-0.5B and
                                          # Llama-3.2-1B shapes (+ Llama-3.1-8B when it fits),
                                          # random init, sequence length 2048, with MFU

Recipes (bench/recipe_runs.py names them): `padded` (HF Trainer, every row padded to
max_length), `sft` (TRL's SFTTrainer with its defaults), `sft_tuned` (SFTTrainer tuned for
speed: no gradient checkpointing, length-grouped, completion-only loss), `hf_grouped` (HF
Trainer, length-grouped, padded to the batch's longest row), `ftui` (ftui's worker path
in-process, its levers on), `ftui-nologits` (logits over every position), `ftui-fp32` (no
bf16), `ftui+packing` (data.packing). All train one epoch of the same rows with LoRA r 16 on
all linear layers and the same batch size, at one precision (bf16 autocast where the CPU has
bf16, else fp32; TRL defaults keep TRL's own). Figures are medians of --runs runs, interleaved
so that machine noise hits every recipe alike; on the CPU each run is a child process of its
own, so its peak memory (RSS above the child's baseline) is its own. The last line is JSON:
`vs_sft_tuned`, `vs_padded`, `vs_sft` are ftui's real tokens/s over those recipes',
`mem_vs_sft_tuned` ftui's peak memory over sft_tuned's.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # the children fork from a server

import bench_data  # noqa: E402
import bench_report  # noqa: E402
import recipes  # noqa: E402
from cpu_shapes import CPU_SHAPES, hf_megabatch, prepare  # noqa: E402
from gpu_shapes import GPU_SHAPES, build_random_model, fits  # noqa: E402
from recipe_runs import METHODS, Isolated, run_one  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--gpu", action="store_true", help="GPU mode (default when CUDA is there)")
    mode.add_argument("--cpu", action="store_true", help="CPU mode even when CUDA is there")
    p.add_argument(
        "--shape", default="tiny", help="CPU shapes, comma-separated: " + ", ".join(CPU_SHAPES)
    )
    p.add_argument("--runs", type=int, default=None, help="timed runs per recipe (median)")
    p.add_argument("--rows", type=int, default=None, help="rows per run (default by shape)")
    p.add_argument("--batch", type=int, default=None, help="per-device batch (default by shape)")
    p.add_argument("--methods", default=None, help="comma-separated, of: " + ", ".join(METHODS))
    p.add_argument(
        "--models", default=None, help="GPU shapes, comma-separated: " + ", ".join(GPU_SHAPES)
    )
    p.add_argument(
        "--precision",
        choices=("auto", "bf16", "fp32"),
        default="auto",
        help="CPU mode: the recipes' precision (auto: bf16 where the CPU has it)",
    )
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="CPU mode torch threads (default: all cores, or 1 when the machine is busy)",
    )
    p.add_argument(
        "--in-process",
        action="store_true",
        help="CPU mode: every run in this process (faster; peak memory is then absolute RSS)",
    )
    p.add_argument("--work", type=Path, default=None, help="scratch dir (default: a temp dir)")
    args = p.parse_args()

    import torch

    from ftui.core import locations

    cuda = torch.cuda.is_available() and not args.cpu
    if args.gpu and not cuda:
        p.error("--gpu: no CUDA device here")
    unknown = [x for x in (args.methods or "").split(",") if x and x not in METHODS]
    if unknown:
        p.error(f"--methods: unknown {', '.join(unknown)}; choose from {', '.join(METHODS)}")
    shapes = [x for x in args.shape.split(",") if x]
    if not cuda and (bad := [x for x in shapes if x not in CPU_SHAPES]):
        p.error(f"--shape: unknown {', '.join(bad)}; choose from {', '.join(CPU_SHAPES)}")
    work = args.work or Path(tempfile.mkdtemp(prefix="ftui-bench-"))
    # The fetched artefacts (SmolLM2) stay where they are when FTUI_HOME moves to the scratch dir.
    os.environ.setdefault("FTUI_ARTEFACTS", str(locations.artefacts_root()))
    os.environ.setdefault("FTUI_HOME", str(work / "ftui_home"))
    started, load_before = time.monotonic(), os.getloadavg()
    setups: dict[str, dict[str, Any]] = {}
    if cuda:
        gpu_shapes = (args.models or ",".join(GPU_SHAPES)).split(",")
        methods = (args.methods or "padded,sft,ftui,ftui+packing").split(",")
        results = {s: bench_gpu_shape(s, args, work, methods) for s in gpu_shapes}
        results = {k: v for k, v in results.items() if v is not None}
        machine: dict[str, Any] = {"device": torch.cuda.get_device_name()}
    else:
        from transformers.utils import logging

        logging.disable_progress_bar()  # the tiny model's save; the children do the same
        machine = cpu_machine(args)
        print(bench_report.machine_line(machine), flush=True)
        runner = None if args.in_process else Isolated().run
        results = {
            x: bench_cpu(x, args, work, machine, runner, setups.setdefault(x, {})) for x in shapes
        }
    machine.update(
        load_average_before=[round(x, 2) for x in load_before],
        load_average_after=[round(x, 2) for x in os.getloadavg()],
        wall_s=round(time.monotonic() - started, 1),
    )
    summary = bench_report.headline(results, setups)
    summary["machine"] = machine
    print(json.dumps(summary))
    return 0


def cpu_machine(args: argparse.Namespace) -> dict[str, Any]:
    """Cores, threads, the precision, versions: what the figures depend on."""
    import peft
    import torch
    import transformers

    cores = os.cpu_count() or 1
    busy = os.getloadavg()[0] > cores / 2
    # Two threads on two cores that other processes also use spend their time waiting for
    # each other (a step took 6x longer than with one thread here): one thread when busy.
    threads = args.threads or (1 if busy else cores)
    torch.set_num_threads(threads)
    bf16 = cpu_has_bf16()
    precision = args.precision if args.precision != "auto" else ("bf16" if bf16 else "fp32")
    try:
        import trl

        trl_version = trl.__version__
    except ImportError:
        trl_version = None
    return {
        "cpu": cpu_name(),
        "arch": platform.machine(),
        "cores": cores,
        "threads": threads,
        "cpu_bf16": bf16,
        "precision": precision,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "trl": trl_version,
        "peft": peft.__version__,
        "isolated_runs": not args.in_process,
    }


def cpu_has_bf16() -> bool:
    """oneDNN's own check: the CPU has native bf16 (AVX512-BF16 or AMX), not emulation."""
    import torch

    try:
        return bool(torch.backends.mkldnn.is_available()) and bool(
            torch.ops.mkldnn._is_mkldnn_bf16_supported()
        )
    except (AttributeError, RuntimeError):
        return False


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def bench_cpu(
    name: str,
    args: argparse.Namespace,
    work: Path,
    machine: dict[str, Any],
    runner: Any,
    setup: dict[str, Any],
) -> dict[str, Any]:
    """One CPU shape's medians; `setup` gets its rows, batch, lengths (the JSON's `setup`)."""
    shape = CPU_SHAPES[name]
    rows = args.rows or shape.rows
    model_dir, data, extra = prepare(name, work / name, rows)
    s = make_setup(
        model_dir,
        work / name,
        rows,
        args.batch or shape.batch,
        shape.max_len,
        cuda=False,
        scale=1.0,
        data=data,
        extra=extra,
    )
    methods = args.methods.split(",") if args.methods else list(shape.methods)
    runs = args.runs or shape.runs
    setup.update(
        label=shape.label,
        rows=rows,
        batch=s.batch,
        max_len=s.max_len,
        runs=runs,
        hf_megabatch=hf_megabatch(rows, s.batch),
    )
    print(
        f"\n{name}: {shape.label}; {rows} rows, batch {s.batch}, max_len {s.max_len}, "
        f"medians of {runs}; transformers' length grouping (sft_tuned, hf_grouped) sorts "
        f"within megabatches of {setup['hf_megabatch']} batch(es) on this many rows",
        flush=True,
    )
    threads = machine["threads"]
    run = runner and (lambda m, s, sh, pr: runner(m, s, sh, pr, threads))
    return compare(
        s,
        methods,
        runs,
        None,
        shape.label,
        precision=machine["precision"],
        runner=run,
        setup=setup,
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
    return compare(s, methods, args.runs or 3, peak_flops=gpu_peak_flops(), label=shape)


def make_setup(
    model_dir: Path,
    work: Path,
    rows: int,
    batch: int,
    max_len: int,
    cuda: bool,
    scale: float,
    data: list[dict[str, str]] | None = None,
    extra: dict[str, Any] | None = None,
) -> recipes.Setup:
    from ftui.core.model.tokenizer import load_tokenizer

    data = data if data is not None else bench_data.rows(rows, seed=1, scale=scale)
    data_file = bench_data.write_jsonl(work / "data.jsonl", data)
    pad = load_tokenizer(model_dir).pad_token_id  # EOS when the model has no pad token
    return recipes.Setup(
        model_dir, data_file, batch, max_len, work, cuda, rows, {"pad_id": pad, **(extra or {})}
    )


def shared_data(
    s: recipes.Setup, quiet: bool = False, into: dict[str, Any] | None = None
) -> dict[str, Any]:
    """ftui's tokenisation (for the padded recipe: the same tokens) and the raw rows (SFT);
    `into` gets the token statistics."""
    import datasets

    from ftui.train.build import build_datasets, build_tokenizer

    spec = recipes.ftui_spec(s, packing=False)
    tok, tok_dir = build_tokenizer(spec)
    tokenised, _, stats, _ = build_datasets(spec, tok, tok_dir)
    raw = datasets.load_dataset("json", data_files=str(s.data_file), split="train")
    lengths = sorted(stats.lengths)
    trained = sum(sum(1 for x in r if x != -100) for r in tokenised["labels"])
    if into is not None:
        into.update(
            row_tokens_mean=round(statistics.mean(lengths), 1),
            row_tokens_max=lengths[-1],
            truncated_rows=stats.truncated,
            trained_share=round(trained / sum(lengths), 3),
        )
    if not quiet:
        print(
            f"data: {s.rows} alpaca-like rows, tokens per row mean {statistics.mean(lengths):.0f}, "
            f"median {lengths[len(lengths) // 2]}, p90 {lengths[int(0.9 * len(lengths))]}, "
            f"max {lengths[-1]} (truncated at {s.max_len}: {stats.truncated} rows); "
            f"{trained / sum(lengths):.0%} of the tokens trained (ftui's labels)"
        )
    return {"tokenised": tokenised.select_columns(["input_ids", "labels"]), "raw": raw}


def compare(
    s: recipes.Setup,
    methods: list[str],
    runs: int,
    peak_flops: float | None,
    label: str,
    precision: str = "bf16",
    runner: Any = None,
    setup: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Median figures per method of `runs` interleaved runs; `runner(method, setup, shared,
    precision)` runs one (default: in this process, after one untimed warm-up run each)."""
    import torch

    from ftui.train.flops import flop_model_for, mfu

    shared = shared_data(s, into=setup)
    if runner is None:
        runner = run_one
        warm_up(s, methods, precision)
    measured: dict[str, list[dict[str, Any]]] = {m: [] for m in methods}
    failed: dict[str, str] = {}
    for r in range(runs):
        for m in [m for m in methods if m not in failed]:
            try:
                x = runner(m, s, shared, precision)
            except torch.OutOfMemoryError as exc:  # a recipe that does not fit is a result too
                failed[m] = f"out of memory: {str(exc).splitlines()[0][:120]}"
                print(f"  run {r + 1}/{runs} {m:<13} OUT OF MEMORY", flush=True)
                measured.pop(m, None)
                torch.cuda.empty_cache()
                continue
            row = bench_report.run_row(x)
            if peak_flops:
                fm = flop_model_for(x.model, full=False)
                row["mfu"] = mfu(fm, x.real, x.pairs, x.seconds, peak_flops)
            x.model = None
            if r == 0:
                bench_report.say_settings(m, x)
            measured[m].append(row)
            print(
                f"  run {r + 1}/{runs} {m:<13} {row['tokens_per_s']:>9.0f} real tok/s "
                f"in {row['seconds']:.1f} s, peak {row['peak_mem_gb']:.2f} GB",
                flush=True,
            )
    med = {m: bench_report.medians(rs) for m, rs in measured.items() if rs}
    bench_report.print_table(label, med)
    for m, why in failed.items():
        print(f"{m}: {why}")
    return med


def warm_up(s: recipes.Setup, methods: list[str], precision: str) -> None:
    """One short untimed run of each method: imports, kernels, allocator warm-up."""
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
    for m in methods:
        run_one(m, warm, warm_shared, precision)


if __name__ == "__main__":
    raise SystemExit(main())
