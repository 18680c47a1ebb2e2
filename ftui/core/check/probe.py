"""The optional measured probe before a launch: run `python -m ftui.train.probe` (a few real
steps at max_seq_len on this machine) and turn its peak memory and tokens/s into a batch size,
gradient accumulation and an ETA for the real run."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ftui.core.launch.spawn import child_env
from ftui.core.runs.logtail import LogTail
from ftui.core.runs.processes import signal_and_wait, term_then_kill
from ftui.core.runs.rundir import RunPaths
from ftui.core.spec import RunSpec
from ftui.core.units import human_bytes

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
    oom_batches: list[int] = field(default_factory=list)  # batches that ran out of memory

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


class ProbeCancelled(ProbeError):
    pass


STAGE = "FTUI_PROBE_STAGE "
RESULT = "FTUI_PROBE "


def run_probe(
    spec: RunSpec,
    steps: int = 3,
    timeout_s: float = 900,
    on_stage: Callable[[str], None] | None = None,
    cancel: threading.Event | None = None,
) -> ProbeResult:
    """Run the probe in a child process (one GPU or the CPU) and return what it measured.

    `on_stage` gets each progress line the child prints ("loading the model", "step 2/3 at
    batch 4"); setting `cancel` stops the child within a fraction of a second."""
    with tempfile.TemporaryDirectory(prefix="ftui-probe-") as tmp:
        config = RunPaths(Path(tmp)).config  # the probe child reads it as a rank would
        spec.save(config)
        env = child_env(spec)
        env.pop("RANK", None)
        env.pop("WORLD_SIZE", None)
        out_path, err_path = Path(tmp) / "stdout.log", Path(tmp) / "stderr.log"
        with open(out_path, "w") as out, open(err_path, "w") as err:  # files, never a pipe
            proc = subprocess.Popen(
                [sys.executable, "-m", "ftui.train.probe", str(config), "--steps", str(steps)],
                cwd=tmp,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                text=True,
            )
            result_line = _follow(
                proc, LogTail(out_path), time.monotonic() + timeout_s, on_stage, cancel
            )
        stderr = err_path.read_text(errors="replace")
    if proc.returncode != 0 or result_line is None:
        tail = (stderr.strip().splitlines() or ["no output"])[-1][:400]
        raise ProbeError(f"the probe failed: {tail}")
    data: dict[str, Any] = json.loads(result_line)
    data.pop("step_s", None)
    return ProbeResult(**data)


def _follow(
    proc: subprocess.Popen[str],
    output: LogTail,
    deadline: float,
    on_stage: Callable[[str], None] | None,
    cancel: threading.Event | None,
) -> str | None:
    """Pass the child's stage lines on until it exits; the result line's JSON, if any."""
    result: str | None = None
    while True:
        if cancel is not None and cancel.is_set():
            _stop(proc)
            raise ProbeCancelled("the probe was cancelled")
        if time.monotonic() > deadline:
            _stop(proc)
            raise ProbeError("the probe took too long and was stopped")
        exited = proc.poll() is not None
        for line in output.poll():
            if line.startswith(STAGE) and on_stage is not None:
                on_stage(line[len(STAGE) :])
            elif line.startswith(RESULT):
                result = line[len(RESULT) :]
        if exited:  # everything it wrote was read after it exited
            return result
        time.sleep(0.2)


def _stop(proc: subprocess.Popen[str]) -> None:
    """SIGTERM, 5 s to exit, then SIGKILL; poll() reaps the child as it goes."""
    if not signal_and_wait(proc.send_signal, lambda: proc.poll() is None, term_then_kill(5.0)):
        proc.wait()  # SIGKILLed but not yet gone (uninterruptible sleep): reap it when it is


def fitting_batch(per_rank: int, most: int) -> int:
    """The per-device batch to use when `most` rows fit: the largest divisor of the rows per
    optimizer step (so accumulation keeps the effective batch exactly) unless that wastes more
    than half of what fits; then `most` itself."""
    most = max(1, min(most, per_rank))
    divisor = max(d for d in range(1, most + 1) if per_rank % d == 0)
    return divisor if divisor * 2 > most else most


def advise(spec: RunSpec, result: ProbeResult, free_bytes: int, world_size: int = 1) -> ProbeAdvice:
    """The largest per-device batch that fits free_bytes at max_seq_len (and below any batch
    that ran out of memory), the accumulation that keeps the spec's effective batch, and the
    ETA at the measured tokens/s."""
    budget = free_bytes * HEADROOM - result.loaded_bytes
    most = max(0, int(budget // result.per_row_bytes))
    if result.oom_batches:
        most = min(most, min(result.oom_batches) - 1)
    per_rank = spec.train.effective_batch()
    target = spec.train.effective_batch(world_size)
    fits = most >= 1
    batch = fitting_batch(per_rank, most) if fits else 1
    accumulation = max(1, math.ceil(per_rank / batch))
    epochs = spec.train.epochs or 1.0
    tokens = result.train_tokens * epochs
    if spec.train.max_steps:
        tokens = min(tokens, spec.train.max_steps * target * result.seq_len)
    eta = tokens / max(1e-9, result.tokens_per_s * world_size)
    parts = [
        f"peak {human_bytes(result.peak_bytes, 2, 'GiB')} at batch {result.batch} x {result.seq_len} "
        f"tokens ({result.device}), {result.tokens_per_s:.0f} tokens/s"
    ]
    if result.oom_batches:
        parts.append(f"batch {min(result.oom_batches)} ran out of memory")
    if fits:
        effective = batch * accumulation * world_size
        parts.append(
            f"suggest train.per_device_batch_size={batch}, "
            f"train.gradient_accumulation_steps={accumulation} (effective batch {effective}"
            + ("" if effective == target else f", the spec has {target}")
            + ")"
        )
    else:
        parts.append(
            "even batch 1 does not fit: enable train.gradient_checkpointing or lower "
            "data.max_seq_len"
        )
    if spec.launch.strategy != "ddp" and world_size > 1:
        parts.append(
            f"measured unsharded on one device: {spec.launch.strategy} shards the weights, "
            f"gradients and optimizer over {world_size} ranks, so each rank needs less"
        )
    effective = batch * accumulation * world_size
    return ProbeAdvice(batch, accumulation, effective, eta, fits, "; ".join(parts))
