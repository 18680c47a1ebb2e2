"""The optional measured probe before a launch: run `python -m ftui.train.probe` (a few real
steps at max_seq_len on this machine) and turn its peak memory and tokens/s into a batch size,
gradient accumulation and an ETA for the real run."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ftui.core.launch import child_env
from ftui.core.spec import RunSpec

HEADROOM = 0.9  # use at most this share of the free memory


class ProbeError(RuntimeError):
    pass


@dataclass
class ProbeResult:
    device: str
    loaded_bytes: int
    peak_bytes: int
    batch: int
    seq_len: int
    tokens_per_s: float
    train_tokens: int
    train_rows: int

    @property
    def per_row_bytes(self) -> float:
        return max(1.0, (self.peak_bytes - self.loaded_bytes) / max(1, self.batch))


@dataclass
class ProbeAdvice:
    batch: int
    accumulation: int
    effective_batch: int
    eta_s: float
    fits: bool
    message: str


def run_probe(spec: RunSpec, steps: int = 3, timeout_s: float = 900) -> ProbeResult:
    """Run the probe in a child process (one GPU or the CPU) and return what it measured."""
    with tempfile.TemporaryDirectory(prefix="ftui-probe-") as tmp:
        config = Path(tmp) / "config.yaml"
        spec.save(config)
        env = child_env(spec)
        env.pop("RANK", None)
        env.pop("WORLD_SIZE", None)
        done = subprocess.run(
            [sys.executable, "-m", "ftui.train.probe", str(config), "--steps", str(steps)],
            cwd=tmp,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout_s,
        )
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("FTUI_PROBE ")), None)
    if done.returncode != 0 or line is None:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1][:400]
        raise ProbeError(f"the probe failed: {tail}")
    data: dict[str, Any] = json.loads(line.split(" ", 1)[1])
    data.pop("step_s", None)
    return ProbeResult(**data)


def advise(spec: RunSpec, result: ProbeResult, free_bytes: int, world_size: int = 1) -> ProbeAdvice:
    """The largest per-device batch that fits free_bytes at max_seq_len, the accumulation that
    keeps the spec's effective batch, and the ETA at the measured tokens/s."""
    budget = free_bytes * HEADROOM - result.loaded_bytes
    batch = max(0, int(budget // result.per_row_bytes))
    per_rank = spec.train.per_device_batch_size * spec.train.gradient_accumulation_steps
    target = per_rank * world_size
    fits = batch >= 1
    batch = max(1, min(batch, per_rank)) if fits else 1
    accumulation = max(1, math.ceil(per_rank / batch))
    epochs = spec.train.epochs or 1.0
    tokens = result.train_tokens * epochs
    if spec.train.max_steps:
        tokens = min(tokens, spec.train.max_steps * target * result.seq_len)
    eta = tokens / max(1e-9, result.tokens_per_s * world_size)
    gib = 2**30
    message = (
        f"peak {result.peak_bytes / gib:.2f} GiB at batch {result.batch} x {result.seq_len} tokens "
        f"({result.device}); {result.tokens_per_s:.0f} tokens/s"
    )
    if fits:
        message += (
            f"; suggest train.per_device_batch_size={batch}, "
            f"train.gradient_accumulation_steps={accumulation} (effective {batch * accumulation * world_size})"
        )
    else:
        message += "; even batch 1 does not fit: enable train.gradient_checkpointing or lower data.max_seq_len"
    return ProbeAdvice(batch, accumulation, batch * accumulation * world_size, eta, fits, message)
