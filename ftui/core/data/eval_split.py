"""The held-out eval rows: `data.eval_split: auto` (the default), a fraction, or none.

auto holds out a seeded few percent of the train split (AUTO_FRACTION, at least AUTO_MIN_EVAL
and at most AUTO_MAX_EVAL rows) and is off below AUTO_MIN_ROWS rows, where every row is worth
training on and a handful of rows says little about the loss anyway. Held-out rows never
overlap the training rows: a row that is also in the training rows word for word (a duplicate)
is dropped from the eval rows, not counted as held out.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from typing import Any

AUTO = "auto"
OFF = ("", "none", "off")  # and None: no eval rows
AUTO_FRACTION = 0.05
AUTO_MIN_EVAL = 10
AUTO_MAX_EVAL = 1000
AUTO_MIN_ROWS = 200  # below this auto is off: AUTO_MIN_EVAL rows would be over 5% of the data


@dataclass(frozen=True)
class EvalSplitPlan:
    """How many rows auto holds out of `total` rows (0: off) and the one line that says so."""

    total: int
    held_out: int
    note: str


def is_off(value: str | None) -> bool:
    return (value or "").strip().lower() in OFF


def is_auto(value: str | None) -> bool:
    return (value or "").strip().lower() == AUTO


def auto_plan(total: int, seed: int) -> EvalSplitPlan:
    if total < AUTO_MIN_ROWS:
        return EvalSplitPlan(
            total,
            0,
            f"eval split off: {total} rows is too few to hold some out (auto needs "
            f">= {AUTO_MIN_ROWS}; set data.eval_split to a fraction such as 0.1 to hold out "
            "anyway)",
        )
    held = min(AUTO_MAX_EVAL, max(AUTO_MIN_EVAL, round(total * AUTO_FRACTION)))
    return EvalSplitPlan(
        total,
        held,
        f"eval split auto: {held} of {total} rows held out ({held / total:.0%}, seed {seed}), "
        "never trained on",
    )


def row_key(row: dict[str, Any]) -> str:
    """A row's content identity (duplicates share it)."""
    text = json.dumps(row, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def hold_out(ds: Any, n_eval: int, seed: int) -> tuple[Any, Any]:
    """(train, eval): `n_eval` rows drawn with `seed` (the same rows every time), the rest in
    their original order; eval rows that duplicate a training row are dropped from eval."""
    order = list(range(len(ds)))
    random.Random(seed).shuffle(order)
    eval_idx = sorted(order[:n_eval])
    chosen = set(eval_idx)
    train_idx = [i for i in range(len(ds)) if i not in chosen]
    train = ds.select(train_idx)
    trained = {row_key(r) for r in train}
    kept = [i for i in eval_idx if row_key(ds[i]) not in trained]
    return train, ds.select(kept)


def describe(value: str | None, train_rows: int, eval_rows: int, seed: int) -> str:
    """The plan's line about the eval rows, e.g. "eval split off: 40 rows is too few ..."."""
    if is_auto(value):
        if eval_rows:
            total = train_rows + eval_rows
            return (
                f"eval split auto: {eval_rows} of {total} rows held out "
                f"({eval_rows / total:.0%}, seed {seed}), never trained on"
            )
        if train_rows < AUTO_MIN_ROWS:
            return auto_plan(train_rows, seed).note
        return "eval split auto: every held-out row is also a training row; nothing to evaluate"
    if is_off(value):
        return "eval split off: data.eval_split is none (no eval loss, no best checkpoint)"
    return f"eval split {str(value).strip()}: {eval_rows} rows"
