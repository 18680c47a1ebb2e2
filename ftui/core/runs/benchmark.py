"""The quick benchmark's record (the run's lm_eval.json, written by `ftui eval`) and its wording
on the eval card, torch-free. Running it is ftui.core.playground.benchmark.

  lm-eval arc_easy (50 samples, --limit 50): acc base 0.41 → tuned 0.43, acc_norm base 0.45 → tuned 0.47
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from ftui.core.runs.metrics import format_value
from ftui.core.runs.rundir import IN_RUN, RunPaths, read_json_object

# `ftui eval`'s defaults (here, where the command's parser can read them without the HF stack)
DEFAULT_TASKS = ("arc_easy", "hellaswag")
DEFAULT_LIMIT = 50  # samples a task: a quick look, not a leaderboard number
BATCH_SIZE = 8
SHOWN_METRICS = 2  # a task's first few metrics on the card (lm-eval's own order: acc, acc_norm)


def scores(task_result: dict[str, Any]) -> dict[str, float]:
    """A task's metrics from lm-eval's `results[task]` ({"acc,none": 0.41, "acc_stderr,none":
    0.02, "alias": ...}): the finite numbers, stderr left out, named without the default filter
    ("acc"; "exact_match,strict-match" stays "exact_match (strict-match)")."""
    out: dict[str, float] = {}
    for key, value in task_result.items():
        metric, _, filter_name = str(key).partition(",")
        if not filter_name or metric.endswith("_stderr") or isinstance(value, bool):
            continue
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            continue
        out[metric if filter_name == "none" else f"{metric} ({filter_name})"] = float(value)
    return out


def read_benchmark(run_dir: str | Path) -> dict[str, Any]:
    """The run's lm_eval.json ({} when there is none or it is not one)."""
    return read_json_object(RunPaths(Path(run_dir)).lm_eval)


def _shown(value: float) -> str:
    return f"{value:.2f}" if 0.0 <= value <= 1.0 else format_value(value)


def benchmark_lines(record: dict[str, Any]) -> list[str]:
    """One card line a task: what ran, on how many samples, base → tuned for its metrics."""
    results = record.get("results")
    if not isinstance(results, dict):
        return []
    limit = record.get("limit")
    weights = record.get("weights")
    lines = []
    for task, result in results.items():
        if not isinstance(result, dict):
            continue
        base, tuned = result.get("base"), result.get("tuned")
        if not isinstance(base, dict) or not isinstance(tuned, dict):
            continue
        pairs = [
            f"{metric} base {_shown(b)} → tuned {_shown(t)}"
            for metric, b in base.items()
            if isinstance(b, (int, float))
            and isinstance(t := tuned.get(metric), (int, float))
            and not isinstance(b, bool)
        ][:SHOWN_METRICS]
        if not pairs:
            continue
        about = [f"{result['samples']} samples"] if isinstance(result.get("samples"), int) else []
        if isinstance(limit, (int, float)) and not isinstance(limit, bool):
            about.append(f"--limit {format_value(limit)}")
        if isinstance(weights, str) and weights != IN_RUN.final.name:
            about.append(f"tuned = {weights}")
        lines.append(f"lm-eval {task} ({', '.join(about)}): " + ", ".join(pairs))
    return lines
