"""Metric history: every point kept, a thinned copy for display, NaN never becomes 0."""

from __future__ import annotations

import math
import random

from ftui.core.runs.metrics import RunHistory, ema, format_duration, format_value, thin


def test_thin_keeps_spikes_and_bounds_points() -> None:
    xs = [float(i) for i in range(100_000)]
    ys = [1.0] * 100_000
    ys[54_321] = 50.0  # one spike
    ys[77_777] = -5.0
    tx, ty = thin(xs, ys, max_points=500)
    assert len(tx) <= 500
    assert 50.0 in ty and -5.0 in ty
    assert tx == sorted(tx)
    assert thin([1.0, 2.0], [3.0, 4.0]) == ([1.0, 2.0], [3.0, 4.0])


def test_history_keeps_all_points_and_nan_apart() -> None:
    history = RunHistory()
    events = [{"t": 100.0, "type": "plan", "total_steps": 1000}]
    for step in range(1, 1001):
        loss = "nan" if step == 500 else 2.0 + random.random()
        events.append(
            {
                "t": 100.0 + step,
                "type": "metrics",
                "step": step,
                "loss": loss,
                "lr": 1e-4,
                "grad_norm": 1.0,
                "tokens_per_s": 100.0,
                "epoch": step / 100,
            }
        )
    history.add(events)
    assert len(history.loss.xs) == 999
    assert history.loss.nonfinite == [(500.0, history.loss.nonfinite[0][1])]
    assert math.isnan(history.loss.nonfinite[0][1])
    assert 0.0 not in history.loss.ys
    assert len(history.smoothed.ys) == 999 and all(2.0 <= y <= 3.0 for y in history.smoothed.ys)


def test_progress_eta_and_elapsed() -> None:
    history = RunHistory()
    history.add(
        [
            {"t": 0.0, "type": "status", "status": "running"},
            {"t": 0.0, "type": "plan", "total_steps": 100},
        ]
    )
    history.add(
        [
            {"t": float(s), "type": "metrics", "step": s, "loss": 1.0, "epoch": s / 50}
            for s in range(1, 11)
        ]
    )
    live = history.progress(now=12.0, live=True)
    assert (live.step, live.total, live.epoch) == (10, 100, 0.2)
    assert live.elapsed_s == 12.0
    assert live.eta_s is not None and abs(live.eta_s - 90.0) < 1e-6
    history.add([{"t": 20.0, "type": "status", "status": "completed"}])
    done = history.progress(now=1000.0, live=False)
    assert done.elapsed_s == 20.0 and done.eta_s is None


def test_ema_and_formatting() -> None:
    assert ema([1.0, 0.0], alpha=0.5) == [1.0, 0.5]
    assert format_value(float("nan")) == "nan"
    assert format_value(None) == "-"
    assert format_value(0.0) == "0"
    assert format_duration(3725) == "1:02:05"
    assert format_duration(65) == "1:05"
    assert format_duration(None) == "--:--"


def test_eta_ignores_the_time_a_run_was_stopped() -> None:
    history = RunHistory()
    history.add([{"t": 0.0, "type": "plan", "total_steps": 100}])
    history.add([{"t": float(s), "type": "metrics", "step": s} for s in range(1, 11)])
    history.add(
        [
            {"t": 10.5, "type": "status", "status": "stopped"},
            {"t": 5000.0, "type": "status", "status": "running"},
        ]
    )
    history.add([{"t": 5000.0 + s, "type": "metrics", "step": 10 + s} for s in range(1, 6)])
    eta = history.progress(now=5006.0, live=True).eta_s
    assert eta is not None and abs(eta - 85.0) < 1e-6  # 1 step/s, not 15 steps in 5000 s


def test_step_ticks_are_whole_steps_within_the_range() -> None:
    from ftui.core.runs.metrics import step_ticks

    assert step_ticks(1, 120, 5) == [20, 40, 60, 80, 100, 120]
    assert step_ticks(3, 7, 5) == [3, 4, 5, 6, 7]
    assert step_ticks(10.5, 11.2) == [11] and step_ticks(5, 5) == [5]
    for first, last, count in [(1, 394, 10), (0, 1, 5), (17, 100_003, 3), (1, 79, 8)]:
        ticks = step_ticks(first, last, count)
        assert ticks and all(isinstance(t, int) and first <= t <= last for t in ticks)
        assert len(ticks) <= 2 * count + 1
