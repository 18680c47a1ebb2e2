"""The throughput bench's figures: one run's row, the medians, the table and the JSON headline.

Ratios are ftui's (levers on) real tokens/s over another recipe's; `mem_vs_sft_tuned` is ftui's
peak memory over sft_tuned's (below 1: ftui needs less). Lever ratios compare ftui with one
lever off: `logits_lever` (ftui over ftui-nologits) and `bf16_lever` (ftui over ftui-fp32).
"""

from __future__ import annotations

import statistics
from typing import Any

from recipes import Measured

# Shown in the table and the JSON, in this order; the first is the one `vs_*` ratios use.
BASELINES = ("sft_tuned", "hf_grouped", "padded", "sft")
LEVER_ROWS = {"logits_lever": "ftui-nologits", "bf16_lever": "ftui-fp32"}


def machine_line(m: dict[str, Any]) -> str:
    return (
        f"CPU mode: {m['cpu']} ({m['arch']}), {m['cores']} cores, load average "
        f"{_load()}, {m['threads']} torch threads, precision {m['precision']} (CPU bf16: "
        f"{'yes' if m['cpu_bf16'] else 'no'}); torch {m['torch']}, transformers "
        f"{m['transformers']}, TRL {m['trl']}, peft {m['peft']}; "
        + ("each run in its own child process" if m["isolated_runs"] else "runs in-process")
    )


def _load() -> str:
    import os

    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def run_row(x: Measured) -> dict[str, Any]:
    return {
        "tokens_per_s": x.tokens_per_s,
        "padding_efficiency": x.real / x.padded if x.padded else 0.0,
        "trained_share": x.trained / x.real if x.real else 0.0,
        "peak_mem_gb": x.peak_mem_gb,
        "seconds": x.seconds,
        "tokens_per_cpu_s": x.real / x.cpu_seconds if x.cpu_seconds else 0.0,
        "monitor_share": x.monitor_seconds / x.seconds if x.seconds else 0.0,
        "real_tokens": x.real,
        "precision": x.precision,
        **({"note": x.note} if x.note else {}),
    }


def medians(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Numbers: the median over the runs; text (precision, note): the first run's."""
    out: dict[str, Any] = {}
    for k, v in rows[0].items():
        out[k] = statistics.median(r[k] for r in rows) if isinstance(v, int | float) else v
    return out


def say_settings(method: str, x: Measured) -> None:
    if x.settings:
        print(
            f"  {method} settings in effect: "
            + ", ".join(f"{k}={v}" for k, v in x.settings.items()),
            flush=True,
        )
    if method == "sft_tuned":
        print(
            "  sft_tuned: padding_free off (TRL supports it only with FlashAttention 2/3, this "
            "is sdpa on the CPU); TRL 1.16 also computes entropy and token accuracy from the "
            "LM head every step, with no SFTConfig option to turn that off, and on the CPU its "
            "chunked LM head scores every position (only trained ones on CUDA/XPU) and "
            "recomputes the projection in the backward",
            flush=True,
        )
    if x.note:
        print(f"  {method}: {x.note}", flush=True)


def print_table(label: str, med: dict[str, dict[str, Any]]) -> None:
    bases = [b for b in BASELINES if med.get(b, {}).get("tokens_per_s")]
    print(f"\n{label}: medians")
    head = f"{'recipe':<15}{'precision':<29}{'real tok/s':>11}"
    head += "".join(f"{'vs ' + b:>14}" for b in bases)
    head += f"{'pad eff':>9}{'trained':>9}{'peak mem GB':>12}{'tok/CPU-s':>11}"
    print(head)
    for m, v in med.items():
        tps = v["tokens_per_s"]
        line = f"{m:<15}{v['precision'] or '-':<29}{tps:>11.0f}"
        line += "".join(f"{tps / med[b]['tokens_per_s']:>13.2f}x" for b in bases)
        line += (
            f"{v['padding_efficiency']:>9.3f}{v['trained_share']:>9.2f}"
            f"{v['peak_mem_gb']:>12.2f}{v['tokens_per_cpu_s']:>11.0f}"
        )
        print(line)
    if "ftui" in med:
        print(
            f"ftui monitoring (its callback's hooks): {med['ftui']['monitor_share']:.4%} of the "
            "training time"
        )
    print()


def headline(
    results: dict[str, dict[str, dict[str, Any]]], setups: dict[str, dict[str, Any]] | None = None
) -> dict[str, Any]:
    """ftui's default path against each baseline, per model; top level: the worst model."""
    out: dict[str, Any] = {"models": {}}
    for name, med in results.items():
        f = med.get("ftui") or med.get("ftui+packing") or {}
        tps = f.get("tokens_per_s")
        row: dict[str, Any] = {m: _rounded(x) for m, x in med.items()}
        for other in BASELINES:
            if tps and med.get(other, {}).get("tokens_per_s"):
                row[f"vs_{other}"] = round(tps / med[other]["tokens_per_s"], 3)
        if not any("mfu" in x for x in med.values()):  # CPU: the same ratios in CPU time
            for other in BASELINES:
                if f.get("tokens_per_cpu_s") and med.get(other, {}).get("tokens_per_cpu_s"):
                    row[f"vs_{other}_cpu_time"] = round(
                        f["tokens_per_cpu_s"] / med[other]["tokens_per_cpu_s"], 3
                    )
        if f.get("peak_mem_gb") and med.get("sft_tuned", {}).get("peak_mem_gb"):
            row["mem_vs_sft_tuned"] = round(f["peak_mem_gb"] / med["sft_tuned"]["peak_mem_gb"], 3)
        for key, other in LEVER_ROWS.items():
            if tps and med.get(other, {}).get("tokens_per_s"):
                row[key] = round(tps / med[other]["tokens_per_s"], 3)
                row[key + "_mem"] = round(f["peak_mem_gb"] / med[other]["peak_mem_gb"], 3)
        if "ftui+packing" in med and "sft" in med:
            row["packing_vs_sft"] = round(
                med["ftui+packing"]["tokens_per_s"] / med["sft"]["tokens_per_s"], 3
            )
        row["padding_efficiency"] = round(f.get("padding_efficiency", 0.0), 4)
        if setups and name in setups:
            row["setup"] = setups[name]
        out["models"][name] = row
    for key in ("vs_sft_tuned", "vs_hf_grouped", "vs_padded", "vs_sft", "padding_efficiency"):
        vals = [r[key] for r in out["models"].values() if key in r]
        out[key] = min(vals) if vals else None
    mems = [r["mem_vs_sft_tuned"] for r in out["models"].values() if "mem_vs_sft_tuned" in r]
    out["mem_vs_sft_tuned"] = max(mems) if mems else None
    return out


def _rounded(x: dict[str, Any]) -> dict[str, Any]:
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in x.items()}


NAMES = {
    "padded": "padded to max_length",
    "sft": "SFTTrainer defaults",
    "sft_tuned": "SFTTrainer tuned",
    "hf_grouped": "HF Trainer, grouped",
    "ftui": "**ftui**",
    "ftui-nologits": "ftui, logits everywhere",
    "ftui-fp32": "ftui, fp32",
    "ftui+packing": "ftui + packing",
}


def markdown(summary: dict[str, Any], model: str) -> list[str]:
    """The README's table of one model from the bench's JSON line."""
    row = summary["models"][model]
    methods = [m for m in NAMES if m in row]
    bases = [b for b in BASELINES if b in row]
    head = ["recipe", "precision", "real tok/s", *(f"vs {b}" for b in bases)]
    head += ["padding eff.", "trained", "peak mem", "real tok per CPU-s"]
    out = ["| " + " | ".join(head) + " |", "| --- | --- |" + " ---: |" * (len(head) - 2)]
    for m in methods:
        v = row[m]
        tps = v["tokens_per_s"]
        cells = [NAMES[m], v.get("precision", "-"), f"{tps:.0f}"]
        cells += [f"{tps / row[b]['tokens_per_s']:.2f}x" for b in bases]
        cells += [
            f"{v['padding_efficiency']:.3f}",
            f"{v['trained_share']:.0%}",
            f"{v['peak_mem_gb']:.2f} GB",
            f"{v['tokens_per_cpu_s']:.0f}",
        ]
        out.append("| " + " | ".join(cells) + " |")
    return out


if __name__ == "__main__":  # python bench/bench_report.py OUTPUT: the tables of its JSON line
    import json
    import sys

    lines = open(sys.argv[1]).read().splitlines()
    summary = json.loads(next(x for x in reversed(lines) if x.startswith('{"models"')))
    for model in summary["models"]:
        print(f"\n{model}:\n\n" + "\n".join(markdown(summary, model)))
