"""What every part of the GPU suite shares: the clock it runs against, the shapes (the published
ones on a GPU, tiny ones of the same families in the dry run), the models written once, and
one part's record, saved after every item so a part stopped half-way still leaves its figures.
"""

from __future__ import annotations

import json
import math
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
BENCH = HERE.parent
ROOT = BENCH.parent
for _p in (str(BENCH), str(ROOT)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from gpu_shapes import GPU_SHAPES  # noqa: E402

# The dry run keeps each shape's family, tied or untied head and head layout, at toy size.
TINY = {
    "hidden_size": 64,
    "intermediate_size": 160,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "vocab_size": 4096,
}


class OutOfTime(BaseException):
    """A time box ran out. A BaseException, like KeyboardInterrupt, so that no library's
    `except Exception` swallows it and carries on past the budget."""


_deadlines: list[float] = []  # monotonic deadlines of the open time boxes, innermost last


def _on_alarm(_signum: int, _frame: object) -> None:
    raise OutOfTime("time box ran out")


def install_alarm() -> None:
    signal.signal(signal.SIGALRM, _on_alarm)


def _arm() -> None:
    if not _deadlines:
        signal.setitimer(signal.ITIMER_REAL, 0)
        return
    signal.setitimer(signal.ITIMER_REAL, max(_deadlines[-1] - time.monotonic(), 0.001))


def seconds_left() -> float:
    return _deadlines[-1] - time.monotonic() if _deadlines else math.inf


@contextmanager
def time_box(seconds: float) -> Iterator[None]:
    """Raise OutOfTime in the main thread after `seconds` (or at an enclosing box's deadline,
    whichever comes first). Only Python code is interrupted: a CUDA kernel finishes first."""
    _deadlines.append(min(time.monotonic() + seconds, _deadlines[-1] if _deadlines else math.inf))
    _arm()
    try:
        yield
    finally:
        _deadlines.pop()
        _arm()


def one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:300] if text else ''}".rstrip(": ")


@dataclass
class Part:
    """One part's record: what it measured so far, saved to its JSON after every item."""

    name: str
    path: Path
    dry_run: bool
    work: Path
    budget_s: float
    result: dict[str, Any] = field(default_factory=dict)

    def save(self, status: str = "running", **extra: Any) -> None:
        data = {"status": status, "budget_s": self.budget_s, "result": self.result, **extra}
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1, default=str))
        tmp.replace(self.path)

    def item(
        self, section: dict[str, Any], key: str, fn: Callable[[], dict[str, Any]], cap_s: float
    ) -> dict[str, Any] | None:
        """Run one measured item under its own cap inside the part's budget; its outcome (the
        figures, or failed/timed_out with the reason) goes into section[key] and is saved."""
        if seconds_left() < 1:
            section[key] = {"status": "skipped", "reason": "the part's budget is spent"}
            self.save()
            return None
        started = time.monotonic()
        try:
            with time_box(cap_s):
                value = fn()
        except OutOfTime:
            if seconds_left() <= 0:  # the part's own deadline: stop the whole part
                section[key] = {"status": "timed_out", "reason": "the part's budget ran out"}
                self.save()
                raise
            section[key] = {"status": "timed_out", "reason": f"over its {cap_s:.0f} s cap"}
            value = None
        except Exception as exc:  # one item's failure is a result; the part goes on
            section[key] = {"status": "failed", "reason": one_line(exc)}
            value = None
        else:  # "_" keys are for the caller only; {"skipped": True, "reason": ...} is a skip
            status = "skipped" if value.get("skipped") else "ok"
            kept = {k: v for k, v in value.items() if not k.startswith("_") and k != "skipped"}
            section[key] = {"status": status, **kept}
        section[key]["wall_s"] = round(time.monotonic() - started, 2)
        _free_memory()
        self.save()
        return value


def _free_memory() -> None:
    import gc

    gc.collect()
    if "torch" in sys.modules:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()


def cuda() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def shape_overrides(shape: str, dry_run: bool) -> dict[str, Any]:
    if not dry_run:
        return {}
    out = dict(TINY)
    if "head_dim" in GPU_SHAPES[shape]["config"]:
        out["head_dim"] = TINY["hidden_size"] // TINY["num_attention_heads"]
    return out


def shape_config(shape: str, dry_run: bool) -> Any:
    """The transformers config of `shape` (tiny in the dry run), nothing written."""
    from transformers import LlamaConfig, Qwen2Config

    spec = GPU_SHAPES[shape]
    cls = Qwen2Config if spec["family"] == "qwen2" else LlamaConfig
    dims = {**spec["config"], **shape_overrides(shape, dry_run)}
    return cls(max_position_embeddings=32768, **dims)


def bench_tokenizer_dir(work: Path) -> Path:
    return work / "tokenizer"


def model_dir(shape: str, work: Path, dry_run: bool) -> Path:
    """`shape` with random bf16 weights and the bench tokenizer, written once under work/."""
    import bench_data
    from gpu_shapes import build_random_model

    device = "cpu" if dry_run or not cuda() else "cuda"
    return build_random_model(
        shape,
        work / "models" / shape,
        bench_tokenizer_dir(work),
        bench_data.corpus(),
        device=device,
        overrides=shape_overrides(shape, dry_run),
    )
