"""Trainer callbacks: events for the monitor, the STOP file, non-finite loss, checkpoint markers.

Only rank 0 writes events. Decisions every rank must share (stop now) go through a gloo
process group on CPU tensors, so no GPU sync is added to the step.
"""

from __future__ import annotations

import math
import shutil
import time
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from ftui.core.atomic import atomic_write_json
from ftui.core.runs.events import EventWriter
from ftui.core.runs.processes import own_resident_bytes
from ftui.core.runs.rundir import RunPaths, read_run_json
from ftui.train.collator import TokenCounter

COMPLETE_MARKER = RunPaths.COMPLETE_MARKER


class Side:
    """A CPU (gloo) side channel between ranks; a no-op with one process."""

    def __init__(self) -> None:
        import torch.distributed as dist

        self.dist = dist
        self.group = None
        if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
            backend = dist.get_backend()
            self.group = None if backend == "gloo" else dist.new_group(backend="gloo")
            self.active = True
        else:
            self.active = False

    def reduce(self, values: list[float], op: str = "sum") -> list[float]:
        if not self.active:
            return values
        import torch

        t = torch.tensor(values, dtype=torch.float64)
        self.dist.all_reduce(t, op=getattr(self.dist.ReduceOp, op.upper()), group=self.group)
        return t.tolist()

    def barrier(self) -> None:
        if self.active:
            self.dist.barrier(group=self.group)


class FtuiCallback(TrainerCallback):
    def __init__(
        self,
        paths: RunPaths,
        events: EventWriter | None,
        counter: TokenCounter,
        plan: dict[str, Any],
        save_total_limit: int | None,
        peak_flops: float | None = None,
        flops_per_token: float | None = None,
        attn_flops_per_pair: float = 0.0,
        has_eval: bool = False,
    ):
        self.paths = paths
        self.events = events  # None on ranks other than 0
        # The launch's resume key goes into every checkpoint marker too: resume's guard must
        # not depend on run.json alone (a deleted run.json would disarm it).
        self.resume_key = read_run_json(paths.root).get("resume_key") if events else None
        self.counter = counter
        self.plan = plan
        self.save_total_limit = save_total_limit
        self.peak_flops = peak_flops
        self.flops_per_token = flops_per_token  # dense model FLOPs per token (4N LoRA, 6N full)
        self.attn_flops_per_pair = attn_flops_per_pair  # see ftui.train.flops
        self.side: Side | None = None
        self.stop_requested = False
        self.nonfinite_step: int | None = None
        self.nonfinite_what = "loss"
        self.last_finite_step = 0
        self.has_eval = has_eval  # eval rows exist: evaluate before every save
        self.last_eval: tuple[int, float] | None = None  # (step, eval_loss)
        self._t_last = time.time()

    # -- lifecycle --------------------------------------------------------------------------
    def on_train_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
        self.side = Side()
        self._t_last = time.time()
        self.counter.take()
        if self.events:
            self.events.emit("plan", total_steps=state.max_steps, **self.plan)
            self.events.status("running")

    def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
        assert self.side is not None
        local = 1.0 if self.paths.stop_file.exists() else 0.0
        if self.side.reduce([local], "max")[0] > 0 and not self.stop_requested:
            self.stop_requested = True
            control.should_save = True
            control.should_training_stop = True
            if self.events:
                self.events.status("stopping", step=state.global_step)
        if control.should_save:
            control.should_log = True  # check the loss is finite before anything is saved
            # The loss logged at this step was computed before this step's update: the weights
            # about to be saved can already be NaN/inf. Never save (and mark COMPLETE) those.
            bad = 0.0 if _weights_finite(kw.get("model")) else 1.0
            if self.side.reduce([bad], "max")[0] > 0:
                self.nonfinite_step = state.global_step
                self.nonfinite_what = "weights"
                control.should_save = False
                control.should_training_stop = True
        if control.should_save and self.has_eval:
            # every checkpoint records its eval loss: the best one is what chat and export use
            control.should_evaluate = True

    def on_log(
        self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kw: Any
    ) -> None:
        assert self.side is not None
        logs = logs or {}
        pairs = self.counter.pairs
        real, padded, samples = self.counter.take()
        real, padded, samples, pairs = self.side.reduce([real, padded, samples, pairs])
        now = time.time()
        dt = max(now - self._t_last, 1e-9)
        self._t_last = now
        if "loss" not in logs:
            if "eval_loss" in logs:
                loss = float(logs["eval_loss"])
                self.last_eval = (state.global_step, loss)
                if self.events:
                    self.events.emit("eval", **eval_record(state.global_step, loss))
            return
        loss = float(logs["loss"])
        if not math.isfinite(loss) and self.nonfinite_step is None:
            self.nonfinite_step = state.global_step
            control.should_save = False
            control.should_training_stop = True
        elif math.isfinite(loss):
            self.last_finite_step = state.global_step
        if self.events:
            tps = real / dt
            metrics = {
                "step": state.global_step,
                "epoch": round(float(state.epoch or 0), 4),
                "loss": loss,
                "lr": logs.get("learning_rate"),
                "grad_norm": logs.get("grad_norm"),
                "tokens_per_s": round(tps, 1),
                "samples_per_s": round(samples / dt, 3),
                "padding_efficiency": round(real / padded, 4) if padded else None,
                "mem_gb": _memory_gb(),
            }
            if self.peak_flops and self.flops_per_token:
                from ftui.train.flops import FlopModel, mfu

                fm = FlopModel(self.flops_per_token, self.attn_flops_per_pair)
                # the token counts are summed over ranks, so the peak is every rank's GPU
                peak = self.peak_flops * max(1, args.world_size)
                metrics["mfu"] = round(mfu(fm, real, pairs, dt, peak), 4)
            self.events.emit("metrics", **metrics)

    def on_save(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
        assert self.side is not None
        self.side.barrier()  # every rank has written its part of the checkpoint
        ckpt = self.paths.checkpoint(state.global_step)  # where the Trainer has just saved
        if self.events and ckpt.is_dir():
            if self.last_eval and self.last_eval[0] == state.global_step:
                write_eval_record(ckpt, *self.last_eval)
            mark_complete(ckpt, state.global_step, self.resume_key)
            self.events.emit("checkpoint", step=state.global_step, path=str(ckpt))
            rotate_checkpoints(Path(args.output_dir), self.save_total_limit)
        self.side.barrier()


def eval_record(step: int, eval_loss: float) -> dict[str, Any]:
    """An eval event's (and a checkpoint's eval.json) fields: the loss and its perplexity."""
    ppl = math.exp(eval_loss) if math.isfinite(eval_loss) and eval_loss < 700 else None
    return {"step": step, "eval_loss": eval_loss, "perplexity": ppl}


def write_eval_record(weights: Path, step: int, eval_loss: float) -> None:
    if math.isfinite(eval_loss):  # a NaN eval loss is never a best checkpoint
        atomic_write_json(weights / RunPaths.EVAL_RECORD, eval_record(step, eval_loss))


def _weights_finite(model: Any) -> bool:
    """True when every trainable parameter (this rank's shard) is finite."""
    if model is None:
        return True
    import torch

    with torch.no_grad():
        for p in model.parameters():
            if p.requires_grad and p.numel() and not bool(torch.isfinite(p).all()):
                return False
    return True


def _memory_gb() -> float | None:
    try:
        import torch

        if torch.cuda.is_available():
            return round(torch.cuda.max_memory_allocated() / 2**30, 3)
    except Exception:
        pass
    resident = own_resident_bytes()
    return round(resident / 2**30, 3) if resident is not None else None


def mark_complete(ckpt: Path, step: int, resume_key: Any = None) -> None:
    """Written last, once every file of a checkpoint (or final/) is saved: each file's size."""
    files = {
        str(p.relative_to(ckpt)): p.stat().st_size
        for p in sorted(ckpt.rglob("*"))
        if p.is_file() and p.name != COMPLETE_MARKER
    }
    marker: dict[str, Any] = {"step": step, "files": files}
    if resume_key is not None:
        marker["resume_key"] = resume_key
    atomic_write_json(ckpt / COMPLETE_MARKER, marker)


def rotate_checkpoints(root: Path, limit: int | None) -> None:
    """Delete the oldest complete checkpoints beyond `limit`; never the newest complete one,
    never an incomplete one (those are set aside by resume, not deleted), never the one with the
    best eval loss (the default for chat and export). "Complete" is the full check (marker plus
    every file parses), so a marked checkpoint whose file was cut short afterwards (a full disk)
    never pushes the last good one out."""
    if not limit:
        return
    from ftui.core.runs.checkpoints import best_checkpoint, checkpoint_is_complete, list_checkpoints

    complete = [p for p in list_checkpoints(root) if checkpoint_is_complete(p)]  # newest first
    best = best_checkpoint(root)
    for old in complete[max(limit, 1) :]:
        if old != best:
            shutil.rmtree(old, ignore_errors=True)
