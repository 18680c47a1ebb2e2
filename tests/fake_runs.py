"""Hand-written run directories for monitor and lifecycle tests (no launcher, no torch).

They follow the run-dir contract in ftui/core/runs/rundir.py: config.yaml, run.json, events.jsonl,
logs/rank<N>.log and checkpoints/checkpoint-N/ with a COMPLETE marker.
"""

from __future__ import annotations

import json
import math
import struct
import zipfile
from pathlib import Path
from typing import Any

T0 = 1_795_507_200.0  # 2026-11-24 08:00 UTC: a fixed wall time so snapshots do not depend on the clock


def write_safetensors(path: Path, n_floats: int = 4) -> None:
    data = struct.pack(f"<{n_floats}f", *([0.5] * n_floats))
    header = {
        "__metadata__": {"format": "pt"},
        "w": {"dtype": "F32", "shape": [n_floats], "data_offsets": [0, len(data)]},
    }
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data)


def write_zip_torch_file(path: Path) -> None:
    """The layout torch.save uses (a zip archive) without importing torch."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
        archive.writestr("archive/version", b"3\n")


def make_checkpoint(run_dir: Path, step: int, complete: bool = True) -> Path:
    ckpt = run_dir / "checkpoints" / f"checkpoint-{step}"
    ckpt.mkdir(parents=True, exist_ok=True)
    write_safetensors(ckpt / "adapter_model.safetensors")
    (ckpt / "adapter_config.json").write_text(json.dumps({"r": 8, "lora_alpha": 16}))
    (ckpt / "trainer_state.json").write_text(json.dumps({"global_step": step}))
    write_zip_torch_file(ckpt / "optimizer.pt")
    write_zip_torch_file(ckpt / "rng_state_0.pth")
    if complete:
        (ckpt / "COMPLETE").write_text("")
    return ckpt


def _line(event: dict[str, Any]) -> str:
    def clean(v: Any) -> Any:
        if isinstance(v, float) and not math.isfinite(v):
            return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
        return v

    return json.dumps({k: clean(v) for k, v in event.items()}) + "\n"


def metrics_events(steps: int, t0: float = T0, every: float = 1.0) -> list[dict[str, Any]]:
    out = []
    for step in range(1, steps + 1):
        out.append(
            {
                "t": t0 + 2 + step * every,
                "type": "metrics",
                "step": step,
                "epoch": round(step / 20, 3),
                "loss": round(3.0 * math.exp(-step / 15) + 0.4 + 0.05 * math.sin(step), 4),
                "lr": 3e-4 * min(1.0, step / 5) * (1 - step / (steps + 1)),
                "grad_norm": round(1.5 * math.exp(-step / 30) + 0.2, 4),
                "tokens_per_s": 5000.0 + 100 * math.sin(step / 3),
                "samples_per_s": 20.0,
            }
        )
    return out


def make_run(
    root: Path,
    name: str = "demo-20261124-080000",
    *,
    steps: int = 40,
    total_steps: int = 40,
    final: str | None = "completed",
    reason: str | None = None,
    pid: int | None = 999_999,
    pid_start_time: int | None = 1,
    extra_events: list[dict[str, Any]] | None = None,
    checkpoints: tuple[int, ...] = (),
    log_lines: int = 30,
    t0: float = T0,
) -> Path:
    """A run dir: `steps` metrics events, eval every 10 steps, a sample, and `final` status."""
    run = root / name
    (run / "logs").mkdir(parents=True, exist_ok=True)
    run.chmod(0o700)
    (run / "config.yaml").write_text(f"name: {name.rsplit('-', 2)[0]}\n")
    (run / "command.txt").write_text("torchrun --standalone --nproc-per-node=2 -m ftui.train\n")
    run_json = {"pid": pid, "pid_start_time": pid_start_time, "started": t0, "name": name}
    (run / "run.json").write_text(json.dumps(run_json))
    events: list[dict[str, Any]] = [
        {"t": t0, "type": "status", "status": "starting"},
        {
            "t": t0 + 1,
            "type": "plan",
            "total_steps": total_steps,
            "world_size": 2,
            "train_rows": 400,
            "train_tokens": 51200,
        },
        {"t": t0 + 2, "type": "status", "status": "running"},
    ]
    for event in metrics_events(steps, t0):
        events.append(event)
        step = event["step"]
        if step % 10 == 0:
            events.append(
                {
                    "t": event["t"],
                    "type": "eval",
                    "step": step,
                    "eval_loss": round(event["loss"] + 0.15, 4),
                }
            )
        if step in checkpoints:
            events.append(
                {
                    "t": event["t"],
                    "type": "checkpoint",
                    "step": step,
                    "path": f"checkpoints/checkpoint-{step}",
                }
            )
    if steps >= 20:
        events.append(
            {
                "t": t0 + 2 + steps,
                "type": "sample",
                "step": steps,
                "prompt": "What is the capital of France?",
                "output": "Paris.",
            }
        )
    events.extend(extra_events or [])
    if final:
        last = max(e["t"] for e in events)
        status = {"t": last + 1, "type": "status", "status": final}
        if reason:
            status["reason"] = reason
        events.append(status)
    (run / "events.jsonl").write_text("".join(_line(e) for e in events))
    for rank in (0, 1):
        lines = [f"[rank{rank}] step {i} loss 1.0" for i in range(1, log_lines + 1)]
        (run / "logs" / f"rank{rank}.log").write_text("\n".join(lines) + "\n")
    for step in checkpoints:
        make_checkpoint(run, step)
    return run


def append_events(run: Path, *events: dict[str, Any]) -> None:
    with open(run / "events.jsonl", "a", encoding="utf-8") as fh:
        for event in events:
            fh.write(_line(event))
