"""The GPU suite's JSON as markdown tables: summary.md, and the README's GPU results section
(bench/gpu/to_readme.py). Plain Python, no torch: it runs anywhere the JSON is."""

from __future__ import annotations

from typing import Any

RECIPE_LABELS = {
    "trl_default": "TRL SFTTrainer, defaults",
    "trl_tuned": "TRL SFTTrainer, tuned",
    "ftui": "ftui default (Liger off)",
    "ftui_liger": "ftui + Liger",
    "ftui_packing": "ftui + packing",
    "ftui_compile": "ftui + torch_compile",
}


def _f(value: Any, fmt: str = "{:.2f}") -> str:
    return "-" if value is None else fmt.format(value)


def _ok(item: dict[str, Any] | None) -> bool:
    return bool(item) and item.get("status") == "ok"


def _why(item: dict[str, Any] | None) -> str:
    if not item:
        return "not run"
    return f"{item.get('status')}: {item.get('reason') or item.get('error') or ''}".rstrip(": ")


def headline(result: dict[str, Any]) -> str:
    det = result["parts"].get("detection", {}).get("result", {})
    tv = det.get("torch", {})
    gpu = tv.get("name") or "no CUDA GPU"
    mem = f", {tv['memory_total'] / 2**30:.0f} GiB" if tv.get("memory_total") else ""
    smi = (det.get("nvidia_smi") or {}).get("gpus") or [{}]
    driver = f", driver {smi[0]['driver']}" if smi[0].get("driver") else ""
    cuda = f", CUDA {tv['torch_cuda']}" if tv.get("torch_cuda") else ""
    v = result.get("versions", {})
    shown = ("torch", "transformers", "peft", "trl", "liger-kernel", "flash-attn")
    libs = ", ".join(f"{k} {v[k]}" for k in shown if v.get(k))
    mode = "dry run on the CPU (tiny shapes: not GPU figures)" if result["dry_run"] else "GPU run"
    commit = result.get("machine", {}).get("ftui_commit")
    return (
        f"{mode}: {gpu}{mem}{driver}{cuda}; {libs}; {result['started'][:10]}"
        + (f", ftui {commit}" if commit else "")
        + f"; the suite took {result['wall_s']:.0f} s."
    )


def throughput_table(result: dict[str, Any]) -> list[str]:
    part = result["parts"].get("throughput", {}).get("result", {})
    lines: list[str] = []
    mm = result["parts"].get("detection", {}).get("result", {}).get("matmul", {})
    if part.get("peak_flops"):
        lines += [
            "",
            f"MFU counts model FLOPs (4N per token for LoRA, plus attention) against the dense "
            f"bf16 peak of {part['peak_flops'] / 1e12:.0f} TFLOP/s"
            + (f"; a bf16 matmul ran at {mm['tflops']:.0f} TFLOP/s here" if _ok(mm) else "")
            + ".",
        ]
    for shape, entry in part.get("shapes", {}).items():
        setup = entry.get("setup", {})
        lines += [
            "",
            f"Throughput, {shape} shape (random init, LoRA r 16 all-linear, batch "
            f"{entry.get('batch')}, {entry.get('rows')} alpaca-like rows, mean "
            f"{_f(setup.get('row_tokens_mean'), '{:.0f}')} tokens, max_seq_len "
            f"{setup.get('max_seq_len', '-')}):",
            "",
            "| recipe | real tokens/s | vs TRL defaults | MFU | padding efficiency | peak GiB |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        ratios = entry.get("vs_trl_default", {})
        for name, r in entry.get("recipes", {}).items():
            label = RECIPE_LABELS.get(name, name)
            if not _ok(r):
                lines.append(f"| {label} | {_why(r)} | | | | |")
                continue
            lines.append(
                f"| {label} | {r['tokens_per_s']:.0f} | {_f(ratios.get(name), '{:.2f}x')} | "
                f"{_f(r.get('mfu'), '{:.1%}')} | {_f(r.get('padding_efficiency'), '{:.3f}')} | "
                f"{_f(r.get('peak_mem_gib'))} |"
            )
    return lines


def memory_table(result: dict[str, Any]) -> list[str]:
    part = result["parts"].get("memory", {}).get("result", {})
    if not part.get("cases"):
        return []
    lines = [
        "",
        f"Memory: ftui's estimate against {part.get('measured_as')}, sequence length "
        f"{part.get('seq_len')} (estimate over measured; within 0.85-1.15 is the goal):",
        "",
        "| case | batch | estimate GiB | measured GiB | estimate / measured |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for key, c in part["cases"].items():
        if not _ok(c) or not c.get("fits", True):
            why = c.get("reason") if _ok(c) else _why(c)
            est = _f(c.get("estimate_gib")) if _ok(c) else ""
            lines.append(f"| {key} | {c.get('batch', '')} | {est} | {why} | |")
            continue
        lines.append(
            f"| {key} | {c['batch']} | {c['estimate_gib']:.2f} | {c['measured_gib']:.2f} | "
            f"{c['ratio']:.3f} |"
        )
    return lines


def packing_table(result: dict[str, Any]) -> list[str]:
    part = result["parts"].get("packing_attention", {}).get("result", {})
    if not part.get("impls"):
        return []
    padded = part.get("padded_sdpa", {})
    lines = [
        "",
        f"Padding-free packing, {part.get('shape')} shape, one packed row of "
        f"{sum(part.get('lengths', []))} tokens ({len(part.get('lengths', []))} samples), "
        "forward + backward:",
        "",
        "| attention | keeps samples apart | packed ms | tokens/s |",
        "| --- | --- | ---: | ---: |",
    ]
    for impl, r in part["impls"].items():
        if not _ok(r):
            lines.append(f"| {impl} | {_why(r)} | | |")
            continue
        apart = "yes" if r["keeps_samples_apart"] else f"NO (gap {r['gap_other_first']:.3g})"
        lines.append(
            f"| {impl} | {apart} | {r['packed_ms']:.1f} | {r['packed_tokens_per_s']:.0f} |"
        )
    if _ok(padded):
        lines.append(
            f"| sdpa, padded to the longest (efficiency {padded['padding_efficiency']:.2f}) | - | "
            f"{padded['padded_ms']:.1f} | {padded['padded_tokens_per_s']:.0f} |"
        )
    lines += ["", f"Fastest that keeps samples apart: {part.get('fastest') or '-'}."]
    return lines


def run_lines(result: dict[str, Any]) -> list[str]:
    if "ftui_run" not in result["parts"]:
        return []
    part = result["parts"]["ftui_run"].get("result", {})
    run, est, probe = part.get("run"), part.get("estimate"), part.get("probe")
    lines = ["", f"`ftui run` through torchrun (1 rank), {part.get('shape', '-')} shape:"]
    if _ok(run):
        assert run is not None
        mfu = [m for m in run.get("mfu", []) if m is not None]
        lines.append(
            f"- {run['final_status']}, {run['metrics_events']} metrics events, last "
            f"{_f((run.get('last_metrics') or {}).get('tokens_per_s'), '{:.0f}')} tokens/s, "
            f"MFU {_f(mfu[-1] if mfu else None, '{:.1%}')}, peak {_f(run.get('mem_gb_max'))} GiB; "
            f"live {run['live_source']}: {run['live_samples']} samples, utilisation max "
            f"{_f(run.get('live_utilization_max'), '{:.0f}')}, power max "
            f"{_f(run.get('live_power_w_max'), '{:.0f} W')}; NCCL log lines "
            f"{run['nccl_log_lines']}"
        )
    else:
        lines.append(f"- run: {_why(run)}")
    if _ok(est):
        assert est is not None
        lines.append(
            f"- estimate {_f(est.get('estimate_gib'))} GiB against the events' "
            f"{_f(est.get('events_mem_gib'))} GiB (ratio {_f(est.get('ratio'), '{:.3f}')}"
            f"{', Liger on' if est.get('liger') else ''})"
        )
    if _ok(probe):
        assert probe is not None
        lines.append(
            f"- probe asked batch {probe['asked_batch']}, ran {probe['ran_batch']}, out of "
            f"memory at {probe['oom_batches'] or 'none'}; {probe['advice']}"
        )
    else:
        lines.append(f"- probe: {_why(probe)}")
    return lines


def detection_lines(result: dict[str, Any]) -> list[str]:
    if "detection" not in result["parts"]:
        return []
    det = result["parts"]["detection"].get("result", {})
    mm = det.get("matmul", {})
    bad = det.get("mismatches")
    return [
        "",
        "Detection (`ftui gpus --json` against nvidia-smi and torch): "
        + ("agrees" if bad == [] else f"differs: {'; '.join(bad or ['not run'])}")
        + (f"; {mm['dtype']} {mm['n']}^3 matmul {mm['tflops']:.3g} TFLOP/s" if _ok(mm) else ""),
    ]


def status_table(result: dict[str, Any]) -> list[str]:
    lines = [
        "",
        "| part | status | wall s | budget s | note |",
        "| --- | --- | ---: | ---: | --- |",
    ]
    for name, p in result["parts"].items():
        lines.append(
            f"| {name} | {p.get('status')} | {_f(p.get('wall_s'), '{:.0f}')} | "
            f"{_f(p.get('budget_s'), '{:.0f}')} | {p.get('error') or ''} |"
        )
    return lines


def tables(result: dict[str, Any]) -> str:
    """The README's GPU results: machine line, throughput, memory, packing, the real run."""
    lines = [headline(result)]
    lines += throughput_table(result) + memory_table(result) + packing_table(result)
    lines += run_lines(result) + detection_lines(result)
    return "\n".join(lines) + "\n"


def markdown(result: dict[str, Any]) -> str:
    """summary.md: the tables and each part's status."""
    return "# ftui GPU suite\n\n" + tables(result) + "\n".join(status_table(result)) + "\n"
