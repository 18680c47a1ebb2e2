"""Known failures, recognised from error events, the final status reason and the rank logs.

Each becomes a `Failure` with a plain message, the likely fix, and `setting`: the RunSpec field
the wizard should open so the user can change it.
"""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ftui.core.runs.logtail import rank_logs, tail_lines
from ftui.core.runs.rundir import IN_RUN


@dataclass(frozen=True)
class Failure:
    kind: str
    message: str
    hint: str
    setting: str | None = None


@dataclass(frozen=True)
class _Pattern:
    kind: str
    regex: re.Pattern[str]
    message: str
    hint: str
    setting: str | None


def _p(kind: str, pattern: str, message: str, hint: str, setting: str | None) -> _Pattern:
    return _Pattern(kind, re.compile(pattern, re.IGNORECASE), message, hint, setting)


# Order matters: the first match wins (an NCCL timeout log also mentions "error").
PATTERNS = (
    _p(
        "oom",
        r"out of memory|OutOfMemoryError|CUBLAS_STATUS_ALLOC_FAILED",
        "The GPU ran out of memory.",
        "Lower train.per_device_batch_size (raise gradient_accumulation_steps to keep the "
        "effective batch), enable train.gradient_checkpointing, use a shorter data.max_seq_len, "
        "or switch method.kind to qlora.",
        "train.per_device_batch_size",
    ),
    _p(
        "nonfinite_loss",
        r"non-?finite loss|loss (?:is|became) (?:nan|inf)|nan loss",
        "The loss became NaN or infinite{at_step}.",
        "Lower train.learning_rate, add warmup (train.warmup_steps), prefer bf16 over fp16 "
        "(model.dtype), and check the data for empty or broken rows.",
        "train.learning_rate",
    ),
    _p(
        "missing_column",
        r"column[s]?\s*(?:name\s*)?\[?'?\"?([\w.-]*)'?\"?\]?\s*(?:not (?:in|found)|is missing|does not exist)"
        r"|missing column|KeyError: '([\w.-]+)'",
        "The dataset has no column{column}.",
        "Map the dataset's real column names in data.columns (the wizard's column step lists "
        "them), or pick another data.format.",
        "data.columns",
    ),
    _p(
        "gated_model",
        r"gated repo|GatedRepoError|401 Client Error|Access to model .* is restricted|"
        r"You must be authenticated|RepositoryNotFoundError|Unauthorized",
        "The model is gated or needs a Hugging Face login.",
        "Accept the model's licence on its Hugging Face page, then log in with `hf auth login` "
        "(or set HF_TOKEN); or choose another model.name_or_path.",
        "model.name_or_path",
    ),
    _p(
        "disk_full",
        r"No space left on device|ENOSPC|Errno 28|Disk quota exceeded",
        "The disk is full.",
        "Free space, keep fewer checkpoints (train.save_total_limit), save less often "
        "(train.save_steps), or put output.root on a larger disk.",
        "output.root",
    ),
    _p(
        "nccl_timeout",
        r"NCCL.*time(?:d)?\s?out|Watchdog caught collective operation timeout|"
        r"collective operation timeout|DistBackendError.*[Tt]imeout|gloo.*timed out",
        "A collective operation between ranks timed out (NCCL/gloo).",
        "One rank stopped or crashed: check the other ranks' logs first. Then check the "
        "network and launch.rdzv_endpoint, or try fewer processes (launch.nproc_per_node); "
        "NCCL_DEBUG=INFO shows more.",
        "launch.nproc_per_node",
    ),
)

KIND_ALIASES = {
    "cuda_oom": "oom",
    "out_of_memory": "oom",
    "nan_loss": "nonfinite_loss",
    "non_finite_loss": "nonfinite_loss",
    "nonfinite": "nonfinite_loss",
    "column": "missing_column",
    "gated": "gated_model",
    "auth": "gated_model",
    "enospc": "disk_full",
    "nccl": "nccl_timeout",
}

# Kinds the worker reports that are broader than one pattern: where the wizard should open.
KIND_SETTINGS = {"data": "data.source"}

_STEP_RE = re.compile(r"\bstep\s*[:=]?\s*(\d+)", re.IGNORECASE)


def _fill(pattern: _Pattern, text: str, match: re.Match[str] | None) -> Failure:
    step = _STEP_RE.search(text)
    column = next((g for g in (match.groups() if match else ()) if g), None)
    message = pattern.message.format(
        at_step=f" at step {step.group(1)}" if step else "",
        column=f" named '{column}'" if column else " the spec asked for",
    )
    return Failure(pattern.kind, message, pattern.hint, pattern.setting)


def recognise_text(text: str) -> Failure | None:
    """The first known failure found in a piece of text (an error message or a log tail)."""
    for pattern in PATTERNS:
        match = pattern.regex.search(text)
        if match:
            line = next((ln for ln in text.splitlines() if pattern.regex.search(ln)), text)
            return _fill(pattern, line, match)
    return None


def from_error_event(event: dict[str, Any]) -> Failure:
    """An `error` event as a Failure; a known kind keeps the worker's words and gains our hint."""
    kind = KIND_ALIASES.get(str(event.get("kind") or "error"), str(event.get("kind") or "error"))
    message = str(event.get("message") or "").strip()
    hint = str(event.get("hint") or "").strip()
    known = next((p for p in PATTERNS if p.kind == kind), None)
    if known is None:
        recognised = recognise_text(f"{kind} {message}")
        known = next((p for p in PATTERNS if recognised and p.kind == recognised.kind), None)
    if known is None:
        setting = event.get("setting") or KIND_SETTINGS.get(kind)
        return Failure(kind, message or "The run failed.", hint, setting)
    step = event.get("step")
    base = _fill(known, f"step {step}" if step is not None else message, None)
    if message and step is not None and str(step) not in message:
        message = f"{message} (step {step})"
    return Failure(
        known.kind,
        message or base.message,
        hint or base.hint,
        event.get("setting") or known.setting,
    )


def diagnose(
    events: Iterable[dict[str, Any]],
    run_dir: str | os.PathLike[str] | None = None,
    failed: bool = False,
) -> Failure | None:
    """What went wrong: the last error event, else the failed status reason, else the logs.

    Logs are read only for a failed run (`failed=True` for a process that died without a
    final status): a finished run's logs may mention errors it recovered from.
    """
    error: dict[str, Any] | None = None
    failed_event: dict[str, Any] | None = None
    for event in events:
        if event.get("type") == "error":
            error = event
        elif event.get("type") == "status":
            failed_event = event if event.get("status") == "failed" else None
    if error is not None:
        return from_error_event(error)
    if failed_event is None and not failed:
        return None
    reason = str((failed_event or {}).get("reason") or "")
    found = recognise_text(reason) if reason else None
    if found is None and run_dir is not None:
        found = diagnose_logs(run_dir)
    if found is None and reason:
        hint = f"See the rank logs in {IN_RUN.logs}/ for the traceback."
        return Failure("failed", reason, hint, None)
    return found


def diagnose_logs(run_dir: str | os.PathLike[str], n: int = 200) -> Failure | None:
    """Scan the tail of every rank log (rank 0 first) for a known failure."""
    for log in rank_logs(run_dir):
        found = recognise_text("\n".join(tail_lines(log, n=n)))
        if found is not None:
            return found
    return None


def failing_log(run_dir: str | os.PathLike[str]) -> Path | None:
    """The log most likely to hold the traceback: the first with one, else rank 0, else any."""
    logs = rank_logs(run_dir)
    for log in logs:
        if any("Traceback" in line or "Error" in line for line in tail_lines(log, n=100)):
            return log
    return logs[0] if logs else None


# torchrun's ChildFailedError summary in logs/launcher.log: one block per failed rank, e.g.
#   rank      : 1 (local_rank: 1)
#   exitcode  : -9 (pid: 28817)  (SIGKILL)
_RANK_EXIT = re.compile(r"rank\s*:\s*(\d+)[^\n]*\n\s*exitcode\s*:\s*(-?\d+)\s*\(pid:\s*(\d+)\)")


@dataclass(frozen=True)
class RankDeath:
    """A rank that a signal ended (torchrun reports it with a negative exit code)."""

    rank: int
    pid: int
    signal: str  # "SIGKILL"

    @property
    def message(self) -> str:
        return f"rank {self.rank} (pid {self.pid}) was killed by {self.signal}"


RANK_KILLED_HINT = (
    "Something outside the training ended that rank: a kill, the kernel's out-of-memory killer "
    "(see `dmesg`) or a job scheduler. `ftui resume RUN` continues from the newest complete "
    "checkpoint."
)


def signal_name(code: int) -> str:
    """SIGKILL for exit code -9 (a process ended by a signal); "signal N" when unnamed."""
    try:
        return signal.Signals(-code).name
    except ValueError:
        return f"signal {-code}"


def rank_killed(launcher_log: str) -> RankDeath | None:
    """Which rank a signal ended, from torchrun's failure summary. The other ranks' errors
    (gloo's "Connection reset by peer", torchrun's SIGTERM to the survivors) follow from it, so
    a death by any other signal than SIGTERM is preferred, the root cause first."""
    start = launcher_log.rfind("ChildFailedError")
    if start < 0:
        return None
    text = launcher_log[start:]
    cause_at = text.find("Root Cause")
    deaths: list[tuple[bool, bool, RankDeath]] = []
    for match in _RANK_EXIT.finditer(text):
        code = int(match.group(2))
        if code < 0:
            death = RankDeath(int(match.group(1)), int(match.group(3)), signal_name(code))
            is_cause = cause_at >= 0 and match.start() > cause_at
            deaths.append((death.signal != "SIGTERM", is_cause, death))
    if not deaths:
        return None
    return max(deaths, key=lambda d: (d[0], d[1]))[2]
