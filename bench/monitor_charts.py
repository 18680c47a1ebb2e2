"""How long the monitor takes with 100,000 steps: folding events, thinning, one chart redraw.

Run: python bench/monitor_charts.py [STEPS]
The monitor keeps every point and draws a thinned copy (min/max buckets, ~500 points a line),
so a redraw should cost about the same at 1,000 and at 100,000 steps.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from textual_plotext.plot import Plot  # noqa: E402

from ftui.core.runs.metrics import DISPLAY_POINTS, RunHistory, thin  # noqa: E402


def events(steps: int) -> list[dict]:
    return [
        {
            "t": float(s),
            "type": "metrics",
            "step": s,
            "epoch": s / 1000,
            "loss": 2.0 * math.exp(-s / steps) + 0.1 * math.sin(s),
            "lr": 1e-4,
            "grad_norm": 1.0,
            "tokens_per_s": 5000.0,
        }
        for s in range(1, steps + 1)
    ]


def redraw(history: RunHistory) -> float:
    start = time.perf_counter()
    plot = Plot()
    plot.plotsize(90, 20)
    for series in (history.loss, history.smoothed):
        xs, ys = thin(series.xs, series.ys, DISPLAY_POINTS)
        plot.plot(xs, ys, marker="hd")
    plot.build()
    return time.perf_counter() - start


def main() -> None:
    for steps in (1_000, int(sys.argv[1]) if len(sys.argv) > 1 else 100_000):
        batch = events(steps)
        history = RunHistory()
        start = time.perf_counter()
        history.add(batch)
        fold = time.perf_counter() - start
        draws = [redraw(history) for _ in range(5)]
        print(
            f"{steps:>7} steps: fold {fold * 1000:7.1f} ms (once), "
            f"redraw {min(draws) * 1000:6.1f} ms (best of 5), points kept {len(history.loss.xs)}"
        )


if __name__ == "__main__":
    main()
