"""The worker every torchrun rank runs. Reads top to bottom: setup → data → model → fit → save.

    python -m torch.distributed.run --standalone --nproc-per-node=2 -m ftui.train runs/x/config.yaml

Rank 0 writes events.jsonl; every rank writes logs/rank<N>.log; checkpoints go to
checkpoints/checkpoint-N/ with a COMPLETE marker; the result goes to final/.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
import warnings
from pathlib import Path
from typing import Any

from ftui.core.data.row_stats import RowStats
from ftui.core.runs.events import EventWriter
from ftui.core.runs.processes import record_rank_process
from ftui.core.runs.rundir import RunPaths, update_run_json
from ftui.core.spec import RunSpec, load_spec_file


def data_plan(stats: RowStats) -> dict[str, int]:
    """The plan event's data figures; `ftui preview` counts the same on the same rows."""
    return {
        "train_rows": stats.kept,
        "train_tokens": stats.tokens,
        "trained_tokens": stats.trained_tokens,
        "skipped_rows": stats.no_trained,
        "truncated_rows": stats.truncated,
    }


def _redirect_output(paths: RunPaths, rank: int) -> None:
    """Each rank's stdout/stderr go to its own log file, never through a pipe."""
    paths.logs.mkdir(parents=True, exist_ok=True)
    fd = os.open(paths.rank_log(rank), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    sys.stdout = os.fdopen(1, "w", buffering=1, closefd=False)
    sys.stderr = os.fdopen(2, "w", buffering=1, closefd=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ftui.train")
    parser.add_argument("config")
    parser.add_argument("--resume", action="store_true", help="continue from the newest checkpoint")
    args = parser.parse_args(argv)
    config = Path(args.config).resolve()
    paths = RunPaths(config.parent)
    rank = int(os.environ.get("RANK", "0"))
    if os.environ.get("FTUI_WORKER_NO_REDIRECT") != "1":
        _redirect_output(paths, rank)
    record_rank_process(paths.root, rank)
    # peft reads transformers' old `is_gradient_checkpointing` name: a warning in every rank's
    # log that the user can do nothing about (ftui itself passes the new names).
    warnings.filterwarnings(
        "ignore", message="`is_gradient_checkpointing` is deprecated", category=FutureWarning
    )
    events = EventWriter(paths.root) if rank == 0 else None
    if events:
        events.status("starting", resume=args.resume)
    try:
        spec = load_spec_file(config)
        outcome = train(spec, paths, events, resume=args.resume)
    except (
        BaseException
    ) as exc:  # every failure becomes an event with a reason, then exits non-zero
        from ftui.train.errors import classify

        traceback.print_exc()
        kind, message, hint = classify(exc, paths.root)
        if events:
            events.emit("error", kind=kind, message=message, hint=hint)
            events.status("failed", reason=message)
        return 1
    if events:
        if outcome["status"] == "failed":
            events.status("failed", reason=outcome["reason"])
        else:
            events.status(outcome["status"], step=outcome["step"])
    return 0 if outcome["status"] != "failed" else 1


def train(
    spec: RunSpec, paths: RunPaths, events: EventWriter | None, resume: bool
) -> dict[str, Any]:
    import torch

    from ftui.train import forgetting
    from ftui.train.build import (
        build_datasets,
        build_model,
        build_tokenizer,
        build_training_args,
        pick_collator,
        resolve_dtype,
    )
    from ftui.train.callbacks import FtuiCallback
    from ftui.train.collator import TokenCounter
    from ftui.train.trainer import FtuiTrainer

    args = build_training_args(spec, paths, trackers=True)
    tokenizer, tokenizer_dir = build_tokenizer(spec)
    with args.main_process_first(desc="tokenise"):
        train_ds, eval_ds, stats, fingerprint = build_datasets(spec, tokenizer, tokenizer_dir)
    if events:
        update_run_json(paths.root, data_fingerprint=fingerprint)
    model = build_model(spec, args)
    counter = TokenCounter()
    collator = pick_collator(spec, tokenizer, counter, model)
    world = max(1, args.world_size)
    n_params = sum(p.numel() for p in model.parameters())
    plan = {
        "world_size": world,
        **data_plan(stats),
        "effective_batch": spec.train.effective_batch(world),
        "trainable_params": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "total_params": n_params,
        # what the data path really does: packing can be refused for this model's attention
        "packing": type(collator).__name__ == "PackingCollator",
        "attn_implementation": str(getattr(model.config, "_attn_implementation", "") or ""),
        "dtype": resolve_dtype(spec),  # model.dtype auto resolved for this machine
        **eval_plan(spec, stats, eval_ds),
    }
    has_eval = plan["eval_rows"] > 0
    args.eval_on_start = has_eval  # the step-0 point of the eval loss: the base model's
    callback = FtuiCallback(
        paths,
        events,
        counter,
        plan,
        spec.train.save_total_limit,
        **_mfu_inputs(spec, model),
        has_eval=has_eval,
    )
    trainer = FtuiTrainer(
        model=model,
        args=args,
        train_dataset=train_ds,
        eval_dataset=eval_ds,
        data_collator=collator,
        processing_class=tokenizer,
        callbacks=[callback],
    )
    checkpoint = _resume_checkpoint(paths) if resume else None
    if events and checkpoint:
        events.emit("resumed", checkpoint=str(checkpoint))
    base_text_loss = forgetting.base_text_loss(
        spec, paths, trainer.model, tokenizer, resume, events
    )
    started = time.time()
    trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    step = trainer.state.global_step
    if callback.nonfinite_step is not None:
        return {
            "status": "failed",
            "reason": _nonfinite_reason(callback),
        }
    if callback.stop_requested:
        return {"status": "stopped", "step": step}
    if spec.launch.strategy == "fsdp":
        # Gather the shards so final/ is one safetensors model or adapter, loadable anywhere.
        trainer.accelerator.state.fsdp_plugin.set_state_dict_type("FULL_STATE_DICT")
    if has_eval and (callback.last_eval is None or callback.last_eval[0] != step):
        trainer.evaluate()  # every rank: the eval loss at the end, recorded with final/
    if trainer.is_world_process_zero():  # a marker from an earlier save must not vouch for this
        (paths.final / RunPaths.COMPLETE_MARKER).unlink(missing_ok=True)
    trainer.save_model(str(paths.final))  # adapter (peft) or full model, safetensors
    if trainer.is_world_process_zero():
        from ftui.train.callbacks import mark_complete, write_eval_record

        if callback.last_eval is not None:
            write_eval_record(paths.final, *callback.last_eval)
        tokenizer.save_pretrained(str(paths.final))
        # final/ is for loading anywhere: safetensors + JSON only, no pickled TrainingArguments.
        (paths.final / "training_args.bin").unlink(missing_ok=True)
        mark_complete(paths.final, step, callback.resume_key)  # last: final/ is whole
        if events:
            _emit_samples(spec, trainer.model, tokenizer, eval_ds or train_ds, events, step)
            forgetting.emit_forgetting(
                spec, paths, trainer.model, tokenizer, base_text_loss, events
            )
            events.emit("final", path=str(paths.final), seconds=round(time.time() - started, 1))
    if torch.distributed.is_initialized():
        torch.distributed.barrier()
    return {"status": "completed", "step": step}


def eval_plan(spec: RunSpec, stats: RowStats, eval_ds: Any) -> dict[str, Any]:
    """The plan event's eval figures: how many rows are held out, and the line that says why."""
    from ftui.core.data.eval_split import describe

    rows = len(eval_ds) if eval_ds is not None else 0
    return {
        "eval_rows": rows,
        "eval_note": describe(spec.data.eval_split, stats.rows, rows, spec.train.seed),
    }


def _nonfinite_reason(callback: Any) -> str:
    step = callback.nonfinite_step
    if callback.nonfinite_what == "weights":
        return (
            f"non-finite loss at step {step + 1}: the weights became NaN or inf in step {step}'s "
            "update, which was not saved (the last checkpoint before it is kept)"
        )
    return (
        f"non-finite loss at step {step} (last finite loss at step "
        f"{callback.last_finite_step}; checkpoints after it were not saved)"
    )


def _resume_checkpoint(paths: RunPaths) -> Path | None:
    from ftui.core.runs.checkpoints import newest_complete_checkpoint

    ckpt = newest_complete_checkpoint(paths.root)
    if ckpt is None:
        raise RuntimeError(
            f"resume: no complete checkpoint under {paths.checkpoints}; start a new run instead"
        )
    return ckpt


def _mfu_inputs(spec: RunSpec, model: Any) -> dict[str, Any]:
    """Peak dense bf16 FLOP/s of this GPU, model FLOPs per token (LoRA ~4N, full ~6N) and
    attention FLOPs per causal (query, key) pair (`ftui.train.flops`)."""
    from ftui.train.build import gpu_peak_flops
    from ftui.train.flops import flop_model_for

    peak = gpu_peak_flops()
    if not peak:
        return {"peak_flops": None, "flops_per_token": None}
    fm = flop_model_for(model, full=spec.method.kind == "full")
    return {
        "peak_flops": peak,
        "flops_per_token": fm.dense_per_token,
        "attn_flops_per_pair": fm.attn_per_pair,
    }


def _emit_samples(
    spec: RunSpec, model: Any, tokenizer: Any, ds: Any, events: EventWriter, step: int
) -> None:
    """A couple of greedy answers from the trained model, for the monitor's sample panel."""
    from ftui.core.playground.inference import generate_ids

    try:
        for row in ds.select(range(min(2, len(ds)))):
            ids = list(row["input_ids"])
            labels = list(row["labels"])
            cut = next((i for i, x in enumerate(labels) if x != -100), len(ids))
            prompt_ids = ids[:cut]
            out = generate_ids(
                model,
                tokenizer,
                prompt_ids,
                spec,
                max_new_tokens=min(64, spec.generation.max_new_tokens),
            )
            events.emit(
                "sample",
                step=step,
                prompt=tokenizer.decode(prompt_ids, skip_special_tokens=False)[-400:],
                output=tokenizer.decode(out, skip_special_tokens=True),
            )
    except Exception as exc:  # samples are a nicety; never fail a finished run over them
        print(f"sample generation skipped: {exc}", file=sys.stderr)
