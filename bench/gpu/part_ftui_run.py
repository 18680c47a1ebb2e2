"""A real `ftui run` on the 1B shape through torchrun (one rank: NCCL on a GPU, gloo in the dry
run), watched as the monitor watches it: its events (metrics with MFU and memory), the GPU
panel's data source (NVML, sampled live while it trains), and ftui's estimate for the spec
against the memory the run's events report. Then the memory probe at an oversized batch, so
that its CUDA out-of-memory back-off (ftui/train/probe.py) runs for real.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from common import OutOfTime, Part, cuda, model_dir, seconds_left

SHAPE = "llama-3.2-1b"
TERMINAL = ("completed", "failed", "stopped")
PROBE_BATCH = 64  # 64 x 2048 tokens of a 1B model: far over an H200's memory (logits alone)


def run(part: Part) -> None:
    on_gpu = cuda() and not part.dry_run
    r = part.result
    r.update(shape=SHAPE, device="cuda" if on_gpu else "cpu")
    spec_path = part.item(r, "spec", lambda: write_spec(part, on_gpu), 240)
    if spec_path is None:
        return
    part.item(r, "run", lambda: launch_and_watch(part, Path(spec_path["path"]), on_gpu), 150)
    part.item(r, "estimate", lambda: estimate_vs_events(part, r, on_gpu), 30)
    part.item(r, "probe", lambda: oversized_probe(Path(spec_path["path"]), on_gpu), 90)


def write_spec(part: Part, on_gpu: bool) -> dict[str, Any]:
    import bench_data
    import yaml

    mdir = model_dir(SHAPE, part.work, part.dry_run)
    data = bench_data.write_jsonl(
        part.work / "ftui-run" / "data.jsonl",
        bench_data.rows(400 if on_gpu else 24, seed=3, scale=3.0 if on_gpu else 1.0),
    )
    spec = {
        "name": "gpu-suite-1b",
        "model": {"name_or_path": str(mdir)},
        "data": {
            "source": str(data),
            "format": "instruction",
            "columns": {"prompt": "instruction", "input": "input", "response": "output"},
            "max_seq_len": 2048 if on_gpu else 256,
        },
        "template": {"name": "chatml"},
        "method": {
            "kind": "lora",
            "lora": {"r": 16, "alpha": 32, "dropout": 0.05, "target_modules": "all-linear"},
        },
        "train": {
            "max_steps": 30 if on_gpu else 3,
            "per_device_batch_size": 8 if on_gpu else 2,
            "logging_steps": 5 if on_gpu else 1,
            "learning_rate": 2e-4,
            "save_steps": None,
        },
        "launch": {"nproc_per_node": 1},
        "output": {"root": str(part.work / "ftui-run" / "runs")},
        "generation": {"max_new_tokens": 8},
    }
    path = part.work / "ftui-run" / "spec.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return {"path": str(path)}


def launch_and_watch(part: Part, spec_path: Path, on_gpu: bool) -> dict[str, Any]:
    """What `ftui run SPEC` does (ftui/commands/run.py: preflight, then launch), called here
    rather than through a second Python that imports it all again; then watched."""
    import os

    from ftui.core.check.preflight import preflight
    from ftui.core.hardware import cpu_ram_sample, sample_gpus
    from ftui.core.launch.spawn import kill_run, launch
    from ftui.core.runs.events import EventTail
    from ftui.core.spec import load_spec_file

    spec = load_spec_file(spec_path)
    report = preflight(spec)
    if not report.ok:
        raise RuntimeError(f"preflight: {'; '.join(report.errors)}")
    if on_gpu:
        os.environ["NCCL_DEBUG"] = "INFO"  # the rank log then shows NCCL's own lines
    run_dir = launch(spec)
    tail, events, samples = EventTail(run_dir), [], []
    status = ""
    try:
        while status not in TERMINAL:
            if seconds_left() < 8:
                raise OutOfTime("the run did not finish in its cap")
            events += tail.poll()
            status = next((e["status"] for e in reversed(events) if e["type"] == "status"), "")
            gpus = sample_gpus()  # what the monitor's GPU panel polls every second
            if gpus:
                samples.append([(g.utilization, g.power_w, g.memory_used) for g in gpus])
            else:
                cpu, used, _ = cpu_ram_sample()
                samples.append([(cpu, None, used)])
            time.sleep(1.0)
    finally:
        if status not in TERMINAL:
            kill_run(run_dir, grace_s=5)
    return {
        **summarise(run_dir, events, samples, bool(sample_gpus())),
        "preflight_warnings": report.warnings,
    }


def summarise(
    run_dir: Path, events: list[dict[str, Any]], samples: list[Any], nvml: bool
) -> dict[str, Any]:
    metrics = [e for e in events if e["type"] == "metrics"]
    final = next(e for e in reversed(events) if e["type"] == "status")
    plan = next((e for e in events if e["type"] == "plan"), {})
    logs = "\n".join(p.read_text(errors="replace") for p in (run_dir / "logs").glob("*.log"))
    util = [s[0][0] for s in samples if s and s[0][0] is not None]
    power = [s[0][1] for s in samples if s and s[0][1] is not None]
    return {
        "run_dir": str(run_dir),
        "final_status": final["status"],
        "reason": final.get("reason"),
        "plan": {k: v for k, v in plan.items() if k not in ("t", "type")},
        "metrics_events": len(metrics),
        "last_metrics": {k: v for k, v in (metrics[-1] if metrics else {}).items() if k != "t"},
        "mfu": [m.get("mfu") for m in metrics],
        "mem_gb_max": max((m.get("mem_gb") or 0 for m in metrics), default=None),
        "tokens_per_s": [m.get("tokens_per_s") for m in metrics],
        "live_source": "nvml" if nvml else "cpu_ram_sample",
        "live_samples": len(samples),
        "live_utilization_max": max(util, default=None),
        "live_power_w_max": max(power, default=None),
        "nccl_log_lines": sum("NCCL INFO" in line for line in logs.splitlines()),
        "events_by_type": {
            t: sum(e["type"] == t for e in events) for t in {e["type"] for e in events}
        },
    }


def estimate_vs_events(part: Part, r: dict[str, Any], on_gpu: bool) -> dict[str, Any]:
    """ftui's estimate for the run's spec next to the peak the run's metrics events report
    (torch.cuda.max_memory_allocated on a GPU; RSS on the CPU)."""
    from ftui.core.check.memory import CUDA_CONTEXT, estimate_memory
    from ftui.core.model.facts import inspect_model
    from ftui.core.spec import load_spec_file

    run = r.get("run", {})
    spec = load_spec_file(Path(run["run_dir"]) / "config.yaml")
    est = estimate_memory(
        spec, inspect_model(spec.model.name_or_path), 1, "cuda" if on_gpu else "cpu"
    )
    estimate = (est.total - (CUDA_CONTEXT if on_gpu else 0)) / 2**30
    measured = run.get("mem_gb_max")
    return {
        "estimate_gib": round(estimate, 3),
        "events_mem_gib": measured,
        "ratio": round(estimate / measured, 4) if measured else None,
        "liger": on_gpu and _has("liger_kernel"),
    }


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def oversized_probe(spec_path: Path, on_gpu: bool) -> dict[str, Any]:
    """ftui's memory probe (in this process) at a batch that cannot fit on a GPU: it must back
    off by halving and report the batches that ran out of memory, then advise a batch."""
    from ftui.core.check.probe import ProbeResult, advise
    from ftui.core.hardware import detect_hardware
    from ftui.core.spec import load_spec_file
    from ftui.train.probe import probe

    spec = load_spec_file(spec_path)
    spec.train.per_device_batch_size = PROBE_BATCH if on_gpu else 2
    data = probe(spec, steps=2 if on_gpu else 1)
    data.pop("step_s", None)
    result = ProbeResult(**data)
    report = detect_hardware()
    free = min((g.memory_free for g in report.gpus), default=report.ram_available)
    advice = advise(spec, result, free)
    return {
        "asked_batch": spec.train.per_device_batch_size,
        "ran_batch": result.batch,
        "oom_batches": result.oom_batches,
        "oom_forced": on_gpu,
        "peak_gib": round(result.peak_bytes / 2**30, 3),
        "tokens_per_s": round(result.tokens_per_s, 1),
        "advice": advice.message,
        "note": None
        if on_gpu
        else "CPU: torch raises no OutOfMemoryError here, so the back-off is not exercised",
    }
