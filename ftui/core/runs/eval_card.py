"""The eval card: what a finished (or running) run's evaluation says, in a few lines, worded
once for the monitor's summary, the playground, `ftui runs` and the export's model card.

  eval loss 6.78 → 4.94 (perplexity 876 → 139) on 20 held-out rows, step 0 → 12
  best: checkpoint-8 (eval loss 4.90), the default for chat and export (final: --checkpoint final)
  general-text loss +1.3% (base 6.74 → 6.82)
  lm-eval arc_easy (50 samples, --limit 50): acc base 0.41 → tuned 0.43   (after `ftui eval`)
"""

from __future__ import annotations

import math
from pathlib import Path

from ftui.core.runs.benchmark import benchmark_lines, read_benchmark
from ftui.core.runs.checkpoints import FINAL, best_checkpoint, recorded_eval_loss
from ftui.core.runs.events import read_events
from ftui.core.runs.forgetting import from_record, summary_line, warning_line
from ftui.core.runs.metrics import RunHistory, format_value
from ftui.core.runs.rundir import checkpoint_step


def _ppl(loss: float) -> str:
    return format_value(math.exp(loss), 4) if loss < 700 else "inf"


def best_label(run_dir: str | Path) -> str | None:
    """ "checkpoint-8 (eval loss 4.901)" for the best weights, None when none has an eval loss."""
    best = best_checkpoint(run_dir)
    if best is None:
        return None
    loss = recorded_eval_loss(best)
    return f"{best.name} (eval loss {format_value(loss)})"


def best_marker(run_dir: str | Path) -> str:
    """The best weights in a word for a runs table: "step 8", "final" or ""."""
    best = best_checkpoint(run_dir)
    if best is None:
        return ""
    step = checkpoint_step(best)
    return FINAL if step is None else f"step {step}"


def eval_card_lines(run_dir: str | Path, history: RunHistory | None = None) -> list[str]:
    """The card's lines (empty before anything was measured). `history` saves re-reading
    events.jsonl when the caller has folded it already (the monitor)."""
    if history is None:
        history = RunHistory()
        history.add(read_events(run_dir))
    lines: list[str] = []
    ev = history.eval_loss
    rows = history.plan.get("eval_rows")
    if ev.ys:
        # by step, not by arrival: a resume evaluates again at the step it resumes from
        points = sorted(zip(ev.xs, ev.ys, strict=True), key=lambda p: p[0])
        (x0, first), (x1, last) = points[0], points[-1]
        held = f" on {rows} held-out rows" if isinstance(rows, int) and rows else ""
        lines.append(
            f"eval loss {format_value(first)} → {format_value(last)} (perplexity "
            f"{_ppl(first)} → {_ppl(last)}){held}, step {int(x0)} → {int(x1)}"
        )
        label = best_label(run_dir)
        if label:
            lines.append(
                f"best: {label}, the default for chat and export (final: --checkpoint {FINAL})"
            )
    elif note := history.plan.get("eval_note"):
        lines.append(str(note))
    reading = from_record(history.forgetting)
    if reading is not None:
        lines.append(summary_line(reading))
        if warning := warning_line(reading):
            lines.append(f"warning: {warning}")
    elif skipped := history.forgetting.get("skipped"):
        lines.append(f"general-text loss: {skipped}")
    lines += benchmark_lines(read_benchmark(run_dir))
    return lines
