"""Turn an exception in the worker into (kind, message, hint) for the error event."""

from __future__ import annotations

import errno


def classify(exc: BaseException) -> tuple[str, str, str]:
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
    return "exception", first, "see logs/rank0.log for the full traceback"
