"""Detection: what `ftui gpus --json` reports against `nvidia-smi` and torch (name, memory,
utilisation, power, bf16), plus the bf16 matmul rate measured here, MFU's other yardstick."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

from common import Part, cuda

SMI_FIELDS = (
    "index,name,memory.total,memory.used,utilization.gpu,power.draw,power.limit,driver_version"
)


def run(part: Part) -> None:
    r = part.result
    part.item(r, "ftui_gpus", ftui_gpus, 60)
    part.item(r, "nvidia_smi", nvidia_smi, 30)
    part.item(r, "torch", torch_view, 60)
    r["mismatches"] = compare(r)
    part.item(r, "matmul", lambda: matmul_rate(part.dry_run), 60)


def ftui_gpus() -> dict[str, Any]:
    """`ftui gpus --json`, through ftui's own command line, in this process (a second Python
    would only import the same modules again)."""
    import contextlib
    import io

    from ftui.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = main(["gpus", "--json"])
    if rc != 0:
        raise RuntimeError(f"ftui gpus --json exited {rc}")
    return {"report": json.loads(out.getvalue())}


def nvidia_smi() -> dict[str, Any]:
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return {"found": False, "gpus": []}
    out = subprocess.run(
        [exe, f"--query-gpu={SMI_FIELDS}", "--format=csv,noheader,nounits"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    gpus = []
    for line in out.stdout.strip().splitlines():
        f = [x.strip() for x in line.split(",")]
        gpus.append(
            {
                "index": int(f[0]),
                "name": f[1],
                "memory_total_mib": _num(f[2]),
                "memory_used_mib": _num(f[3]),
                "utilization": _num(f[4]),
                "power_w": _num(f[5]),
                "power_limit_w": _num(f[6]),
                "driver": f[7],
            }
        )
    return {"found": True, "gpus": gpus}


def _num(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:  # "[N/A]", "[Not Supported]"
        return None


def torch_view() -> dict[str, Any]:
    import torch

    if not torch.cuda.is_available():
        return {"cuda": False, "torch_cuda": torch.version.cuda}
    props = torch.cuda.get_device_properties(0)
    return {
        "cuda": True,
        "torch_cuda": torch.version.cuda,
        "name": props.name,
        "memory_total": int(props.total_memory),
        "capability": f"{props.major}.{props.minor}",
        "bf16": bool(torch.cuda.is_bf16_supported()),
        "device_count": torch.cuda.device_count(),
    }


def compare(r: dict[str, Any]) -> list[str]:
    """Where ftui's report disagrees with nvidia-smi or torch; [] when they agree."""
    report = r.get("ftui_gpus", {}).get("report")
    smi = r.get("nvidia_smi", {})
    tv = r.get("torch", {})
    if report is None:
        return ["ftui gpus --json gave no report"]
    out: list[str] = []
    ours = {g["index"]: g for g in report["gpus"]}
    theirs = {g["index"]: g for g in smi.get("gpus", [])}
    if set(ours) != set(theirs):
        out.append(f"GPU indices: ftui {sorted(ours)}, nvidia-smi {sorted(theirs)}")
    for i in sorted(set(ours) & set(theirs)):
        a, b = ours[i], theirs[i]
        if a["name"] != b["name"]:
            out.append(f"GPU {i} name: ftui {a['name']!r}, nvidia-smi {b['name']!r}")
        mib = a["memory_total"] / 2**20
        if b["memory_total_mib"] and abs(mib - b["memory_total_mib"]) > 1:
            out.append(f"GPU {i} memory: ftui {mib:.0f} MiB, nvidia-smi {b['memory_total_mib']}")
        for key in ("utilization", "power_w", "power_limit_w"):
            if (a.get(key) is None) != (b.get(key) is None):
                out.append(f"GPU {i} {key}: ftui {a.get(key)}, nvidia-smi {b.get(key)}")
    if tv.get("cuda") and bool(report["bf16_supported"]) != tv.get("bf16"):
        out.append(f"bf16: ftui {report['bf16_supported']}, torch {tv.get('bf16')}")
    if tv.get("cuda") and report["backend"] != "nvml":
        out.append(f"backend: ftui {report['backend']!r} on a CUDA machine (NVML expected)")
    return out


def matmul_rate(dry_run: bool) -> dict[str, Any]:
    """A square matmul's rate on fresh random data (bf16 on a GPU, fp32 on the CPU), median
    of timed repeats after a warm-up."""
    import time

    import torch

    on_gpu = cuda() and not dry_run
    n = 8192 if on_gpu else 256
    dtype = torch.bfloat16 if on_gpu else torch.float32
    device = "cuda" if on_gpu else "cpu"
    a, b = (torch.randn(n, n, device=device, dtype=dtype) for _ in range(2))
    times = []
    for _ in range(12):
        if on_gpu:
            torch.cuda.synchronize()
        t = time.perf_counter()
        c = a @ b
        if on_gpu:
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t)
    del c
    median = sorted(times[2:])[len(times[2:]) // 2]
    return {"n": n, "dtype": str(dtype), "tflops": round(2 * n**3 / median / 1e12, 2)}
