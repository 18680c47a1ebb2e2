"""`ftui sweep SPEC --set train.learning_rate=1e-4,2e-4,5e-4`: short trials in the queue, ranked.

Each `--set KEY=A,B,C` with a comma-separated value becomes one axis; every combination is one
trial (a list value keeps its commas inside brackets: `[q_proj,v_proj]`). Trials are queued with
an eval at their last step (a held-out 10% when the spec has no eval split), so when they end
they are ranked by eval loss, lowest first.
"""

from __future__ import annotations

import itertools
import math
import re
import time
from dataclasses import dataclass

from ftui.core.data.eval_split import is_auto, is_off
from ftui.core.launch import queue
from ftui.core.spec import RunSpec, SpecError, parse_override

DEFAULT_EVAL_SPLIT = "0.1"


@dataclass(frozen=True)
class Trial:
    overrides: tuple[str, ...]  # the swept KEY=VALUE settings of this trial
    label: str


def _split_values(value: str) -> list[str]:
    """a,b,[c,d] -> ['a', 'b', '[c,d]']: commas inside brackets are part of a value."""
    parts, depth, current = [], 0, ""
    for char in value:
        depth += char in "[{"
        depth -= char in "]}"
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return [*parts, current]


def expand(overrides: list[str]) -> tuple[list[str], list[Trial]]:
    """(the settings every trial shares, one Trial per combination of the swept values)."""
    fixed, axes = [], []
    for item in overrides:
        key, _, value = item.partition("=")
        parse_override(item)  # a malformed --set is refused as `ftui run` refuses it
        values = _split_values(value)
        if len(values) > 1:
            if any(not v.strip() for v in values):
                raise SpecError([f"--set {item}: an empty value in the list"])
            axes.append([f"{key}={v}" for v in values])
        else:
            fixed.append(item)
    if not axes:
        raise SpecError(["sweep: no --set KEY=A,B,... with more than one value to sweep over"])
    trials = []
    for combo in itertools.product(*axes):
        label = " ".join(
            s.split("=", 1)[0].rsplit(".", 1)[-1] + "=" + s.split("=", 1)[1] for s in combo
        )
        trials.append(Trial(tuple(combo), label))
    return fixed, trials


def _trial_name(base: str, index: int) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "-", f"{base}-t{index}")[:64]


def queue_sweep(
    spec_ref: str, overrides: list[str], max_steps: int | None
) -> tuple[str, list[queue.QueueEntry]]:
    """Queue one trial per combination; (the sweep's id, the new entries)."""
    from ftui.core.presets import resolve_spec as resolve

    fixed, trials = expand(overrides)
    base: RunSpec = resolve(spec_ref, fixed)
    sweep_id = f"{base.name}-{time.strftime('%Y%m%d-%H%M%S')}"
    extra = [] if max_steps is None else [f"train.max_steps={max_steps}"]
    specs = []
    for index, trial in enumerate(trials, 1):
        spec: RunSpec = resolve(spec_ref, [*fixed, *extra, *trial.overrides])
        # Trials are ranked by eval loss: a split that may hold nothing out (none, or auto on
        # a small data set) becomes an explicit hold-out.
        held_out = not (is_off(spec.data.eval_split) or is_auto(spec.data.eval_split))
        evals = [] if held_out else [f"data.eval_split={DEFAULT_EVAL_SPLIT}"]
        if spec.train.eval_steps is None:
            if not spec.train.max_steps:
                raise SpecError(
                    [
                        "sweep: trials are ranked by eval loss, so they need train.max_steps "
                        "(--max-steps N) or train.eval_steps"
                    ]
                )
            evals.append(f"train.eval_steps={spec.train.max_steps}")  # one eval, at the end
        name = [f"name={_trial_name(base.name, index)}"]
        spec = resolve(spec_ref, [*fixed, *extra, *trial.overrides, *evals, *name])
        specs.append((spec, f"{spec_ref} {trial.label}"))
    entries = [queue.add(spec, label, sweep=sweep_id) for spec, label in specs]
    return sweep_id, entries


def latest_sweep() -> str | None:
    ids = [e.sweep for e in queue.entries() if e.sweep]
    return ids[-1] if ids else None


def ranked(sweep_id: str) -> list[queue.QueueEntry]:
    """The sweep's trials, the finished ones by eval loss (lowest first), then the rest."""
    trials = [e for e in queue.entries() if e.sweep == sweep_id]

    def key(entry: queue.QueueEntry) -> tuple[int, float, int]:
        loss = entry.eval_loss
        if loss is None or not math.isfinite(loss):
            return (1, math.inf, entry.id)
        return (0, loss, entry.id)

    return sorted(trials, key=key)
