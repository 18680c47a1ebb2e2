"""Measure the forgetting meter (`ftui.core.runs.forgetting`): the mean token loss of a model on
the shipped general-text sample, in windows of at most `window` tokens.

Base figure: for LoRA the same model with its adapter disabled (`disable_adapter()`, which also
restores `modules_to_save` copies), so no second copy of the weights is ever loaded. For a full
fine-tune there is no adapter to switch off, and a second copy of the base would double the
weights' memory: the base figure is measured on the model before its first step instead, and
kept in forgetting.json for the end of the run (and for a resume).
"""

from __future__ import annotations

import sys
from contextlib import nullcontext
from typing import Any

from ftui.core.atomic import atomic_write_json
from ftui.core.runs.events import EventWriter
from ftui.core.runs.forgetting import Forgetting, general_text, warning_line
from ftui.core.runs.rundir import RunPaths, read_json_object
from ftui.core.spec import RunSpec

WINDOW = 256  # tokens per forward pass; the sample is ~1k tokens for a 50k-vocabulary tokenizer


def sample_ids(tokenizer: Any, window: int) -> list[list[int]]:
    """The sample's token ids in windows of at most `window` (each window gets BOS when the
    tokenizer has one, as training rows do)."""
    paragraphs = [p.strip() for p in general_text().split("\n\n") if p.strip()]
    ids: list[int] = []
    for paragraph in paragraphs:
        ids += tokenizer(paragraph + "\n\n", add_special_tokens=False)["input_ids"]
    bos = [tokenizer.bos_token_id] if tokenizer.bos_token_id is not None else []
    step = max(8, window - len(bos))
    return [bos + ids[i : i + step] for i in range(0, len(ids), step) if len(ids[i : i + step]) > 1]


def text_loss(model: Any, windows: list[list[int]], base: bool = False) -> tuple[float, int]:
    """(mean loss per predicted token, number of predicted tokens); with base=True through the
    peft model with its adapter disabled."""
    import torch

    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    context = model.disable_adapter() if base else nullcontext()
    total, count = 0.0, 0
    try:
        with torch.no_grad(), context:
            for window in windows:
                ids = torch.tensor([window], device=device)
                logits = model(input_ids=ids).logits.float()
                loss = torch.nn.functional.cross_entropy(
                    logits[0, :-1], ids[0, 1:], reduction="sum"
                )
                total += float(loss)
                count += ids.shape[1] - 1
    finally:
        model.train(was_training)
    return (total / count if count else float("nan")), count


def is_adapter_model(model: Any) -> bool:
    return hasattr(model, "disable_adapter") and hasattr(model, "peft_config")


def measure(model: Any, tokenizer: Any, window: int, base_loss: float | None) -> Forgetting:
    """Tuned and base losses on the same tokens; `base_loss` is the figure measured before the
    first step (a full fine-tune), else the adapter is disabled for it."""
    windows = sample_ids(tokenizer, window)
    tuned, tokens = text_loss(model, windows)
    if base_loss is None:
        base_loss = text_loss(model, windows, base=True)[0]
    return Forgetting(base_loss, tuned, tokens)


def _text_window(spec: RunSpec, model: Any) -> int:
    limit = getattr(model.config, "max_position_embeddings", None) or WINDOW
    return max(8, min(WINDOW, spec.data.max_seq_len, int(limit)))


def _forgetting_skipped(spec: RunSpec) -> str | None:
    if spec.launch.strategy != "ddp":
        return f"not measured under {spec.launch.strategy}: rank 0 holds only a shard"
    return None


def base_text_loss(
    spec: RunSpec,
    paths: RunPaths,
    model: Any,
    tokenizer: Any,
    resume: bool,
    events: EventWriter | None,
) -> float | None:
    """A full fine-tune's base general-text loss, measured on rank 0 before the first step (a
    resume reads the one measured then); None for LoRA (the adapter is disabled at the end)."""
    if events is None or is_adapter_model(model) or _forgetting_skipped(spec):
        return None
    if resume:
        value = read_json_object(paths.forgetting).get("base_loss")
        return float(value) if isinstance(value, (int, float)) else None
    try:
        loss, tokens = text_loss(model, sample_ids(tokenizer, _text_window(spec, model)))
    except Exception as exc:  # the meter is a nicety; never fail a run over it
        print(f"forgetting meter: base loss skipped: {exc}", file=sys.stderr)
        return None
    atomic_write_json(paths.forgetting, {"base_loss": loss, "tokens": tokens})
    return loss


def emit_forgetting(
    spec: RunSpec,
    paths: RunPaths,
    model: Any,
    tokenizer: Any,
    base_loss: float | None,
    events: EventWriter,
) -> None:
    """The forgetting meter at the end (rank 0): an event and forgetting.json."""
    skipped = _forgetting_skipped(spec)
    if skipped is None and base_loss is None and not is_adapter_model(model):
        skipped = "no base figure (the run was resumed from one that did not measure it)"
    if skipped:
        events.emit("forgetting", skipped=skipped)
        return
    try:
        reading = measure(model, tokenizer, _text_window(spec, model), base_loss)
    except Exception as exc:  # the meter is a nicety; never fail a finished run over it
        print(f"forgetting meter skipped: {exc}", file=sys.stderr)
        events.emit("forgetting", skipped=f"{type(exc).__name__}: {exc}"[:300])
        return
    record = reading.record()
    atomic_write_json(paths.forgetting, record)
    events.emit("forgetting", **record, warning=warning_line(reading))
