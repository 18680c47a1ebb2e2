"""Turn an exception in the worker into (kind, message, hint) for the error event."""

from __future__ import annotations

import errno
import os
import shutil

from ftui.core.runs.rundir import IN_RUN

# A save that hits a full disk does not always say so: torch.save reports
# "unexpected pos N vs M". Below this much free space, a failure is taken as a full disk.
DISK_FULL_BELOW = 1 << 20


def classify(
    exc: BaseException, run_dir: str | os.PathLike[str] | None = None
) -> tuple[str, str, str]:
    kind, message, hint = _classify(exc)
    if kind == "exception" and run_dir is not None:
        try:
            free = shutil.disk_usage(run_dir).free
        except OSError:
            return kind, message, hint
        if free < DISK_FULL_BELOW:
            return (
                "disk_full",
                f"No space left on device: {free // 1024} KiB free under {run_dir} ({message})",
                "free disk space or point output.root at a larger disk, then resume the run",
            )
    return kind, message, hint


def _classify(exc: BaseException) -> tuple[str, str, str]:
    text = f"{type(exc).__name__}: {exc}".strip()
    low = text.lower()
    first = text.splitlines()[0][:500] if text else type(exc).__name__
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted", "the worker was interrupted", "resume the run with `ftui resume RUN`"
    if "out of memory" in low or type(exc).__name__ == "OutOfMemoryError":
        return (
            "oom",
            first,
            "lower train.per_device_batch_size (raise gradient_accumulation_steps to keep the "
            "effective batch), enable train.gradient_checkpointing, shorten data.max_seq_len, "
            "or use method.kind=qlora",
        )
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC or "no space left" in low:
        return "disk_full", first, "free disk space or point output.root at a larger disk"
    if "gated repo" in low or "401" in low and "huggingface" in low:
        return (
            "gated_model",
            first,
            "accept the model's licence on its hub page, then log in with `hf auth login`",
        )
    if "nccl" in low and ("timeout" in low or "timed out" in low):
        return "nccl_timeout", first, "check that every node is reachable and runs the same spec"
    if "data." in low or "column" in low:
        return "data", first, "fix the data settings in the wizard's Data step"
    return "exception", first, f"see {IN_RUN.rank_log(0)} for the full traceback"
