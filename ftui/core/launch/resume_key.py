"""What a resume must keep the same: the resume key, recorded in run.json at launch and, by
the worker, in each checkpoint's COMPLETE marker (so deleting run.json never bypasses it).

A checkpoint's optimizer state, adapter shapes, data order and RNG streams only make sense for
the run that wrote them. Resume refuses when the model, the data (its fingerprint: a local file
edited counts), the LoRA shape, the effective batch or the seed changed, and says what changed.
Logging, eval and save cadence may change: those only warn. Anything else that changed (a
longer max_steps, a new learning rate) is allowed and listed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ftui.core.model.gguf import GgufError, cache_key, gguf_file, is_gguf_ref
from ftui.core.runs.checkpoints import checkpoint_marker, list_checkpoints
from ftui.core.runs.rundir import read_run_json
from ftui.core.spec import RunSpec, flat_values

# Changes that make the checkpoint meaningless or wrong for the new settings.
REFUSE = {
    "model": "the base model",
    "data_fingerprint": "the data (its fingerprint: source, split, mapping, template, file contents)",
    "lora_shape": "the LoRA shape",
    "effective_batch": "the effective batch (batch x accumulation x processes)",
    "seed": "train.seed",
    "held_out": "data.eval_split as a held-out fraction (it changes the training rows)",
}
CADENCE = ("train.logging_steps", "train.eval_steps", "train.save_steps", "train.save_total_limit")


def data_fingerprint_of(spec: RunSpec) -> str:
    from ftui.core.data.dataset import data_fingerprint
    from ftui.core.demo import resolve_model_ref

    return data_fingerprint(spec, resolve_model_ref(spec.model.name_or_path))


def resume_key(spec: RunSpec, nproc: int, fingerprint: str | None = None) -> dict[str, Any]:
    """The settings a checkpoint depends on, as plain JSON."""
    m, lo, tr = spec.model, spec.method.lora, spec.train
    model: dict[str, Any] = {
        "name_or_path": m.name_or_path,
        "revision": m.revision,
        "quantization": m.quantization,
        "method": spec.method.kind,
    }
    if is_gguf_ref(m.name_or_path):
        # A GGUF replaced at the same path is another base model: its version (path, size,
        # mtime) is what keys its dequantised copy.
        try:
            model["gguf"] = cache_key(gguf_file(m.name_or_path))
        except GgufError:
            model["gguf"] = None
    return {
        "model": model,
        "data_fingerprint": fingerprint if fingerprint is not None else data_fingerprint_of(spec),
        "lora_shape": None
        if spec.method.kind == "full"
        else {
            "r": lo.r,
            "alpha": lo.alpha,
            "target_modules": lo.target_modules,
            "modules_to_save": sorted(lo.modules_to_save),
            "use_dora": lo.use_dora,
            "use_rslora": lo.use_rslora,
        },
        "effective_batch": tr.effective_batch(nproc * spec.launch.nnodes),
        "seed": tr.seed,
        "held_out": _held_out_fraction(spec.data.eval_split),
    }


def launch_fingerprint(run_dir: Path) -> dict[str, Any] | None:
    """The resume key the run was launched with: run.json's, else the one the worker wrote into
    the newest checkpoint marker holding one, else (a run from before resume keys) the data
    fingerprint the worker recorded; None when none of them is left."""
    info = read_run_json(run_dir)
    key = info.get("resume_key")
    if isinstance(key, dict):
        return key
    for ckpt in list_checkpoints(run_dir):
        key = checkpoint_marker(ckpt).get("resume_key")
        if isinstance(key, dict):
            return key
    if "data_fingerprint" in info:
        return {"data_fingerprint": info["data_fingerprint"]}
    return None


def _held_out_fraction(eval_split: str | None) -> float | None:
    try:
        return float(eval_split) if eval_split is not None else None
    except ValueError:
        return None  # a split name: the training rows do not change


def compare(
    old_key: dict[str, Any], new_key: dict[str, Any], old_spec: RunSpec, new_spec: RunSpec
) -> tuple[list[str], list[str]]:
    """(refusals, warnings): one line each naming what changed, old -> new."""
    refusals = []
    for part, label in REFUSE.items():
        before, after = old_key.get(part), new_key.get(part)
        if part not in old_key or before == after:
            continue
        if isinstance(before, dict) and isinstance(after, dict):
            diff = [
                f"{k}: {_show(before.get(k))} -> {_show(after.get(k))}"
                for k in sorted(set(before) | set(after))
                if before.get(k) != after.get(k)
            ]
            refusals.append(f"{label} changed ({', '.join(diff)})")
        else:
            refusals.append(f"{label} changed: {_show(before)} -> {_show(after)}")
    warnings = []
    old_flat = flat_values(old_spec.model_dump(mode="json"))
    new_flat = flat_values(new_spec.model_dump(mode="json"))
    for key in sorted(set(old_flat) | set(new_flat)):
        before, after = old_flat.get(key), new_flat.get(key)
        if before == after:
            continue
        note = "" if key in CADENCE else " (allowed)"
        warnings.append(f"{key} changed: {_show(before)} -> {_show(after)}{note}")
    return refusals, warnings


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
