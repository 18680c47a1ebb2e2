"""A run's metric history, built from events: every point is kept; displays get a thinned copy.

Non-finite values (written as "nan"/"inf") are kept apart, never turned into 0: charts skip
them and name the step, the progress line prints them as nan.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from ftui.core.runs.events import TERMINAL_STATUSES, to_float

EMA_ALPHA = 0.2  # weight of the newest point: about the last 10 logged steps count
DISPLAY_POINTS = 500


@dataclass
class Series:
    xs: list[float] = field(default_factory=list)
    ys: list[float] = field(default_factory=list)
    nonfinite: list[tuple[float, float]] = field(default_factory=list)  # (step, value)

    def add(self, x: float, y: float) -> None:
        if math.isfinite(y):
            self.xs.append(x)
            self.ys.append(y)
        else:
            self.nonfinite.append((x, y))

    @property
    def last(self) -> float | None:
        return self.ys[-1] if self.ys else None


def ema(values: list[float], alpha: float = EMA_ALPHA, start: float | None = None) -> list[float]:
    out: list[float] = []
    current = start
    for value in values:
        current = value if current is None else alpha * value + (1 - alpha) * current
        out.append(current)
    return out


def thin(xs: list[float], ys: list[float], max_points: int = DISPLAY_POINTS) -> tuple[list, list]:
    """At most ~max_points points for display: the min and max of each bucket, in x order,
    so spikes survive (a plain stride would drop them)."""
    n = len(xs)
    if n <= max_points:
        return list(xs), list(ys)
    buckets = max(1, max_points // 2)
    size = n / buckets
    out_x: list[float] = []
    out_y: list[float] = []
    for b in range(buckets):
        lo, hi = int(b * size), min(n, int((b + 1) * size))
        if lo >= hi:
            continue
        chunk = ys[lo:hi]
        i_min = lo + chunk.index(min(chunk))
        i_max = lo + chunk.index(max(chunk))
        for i in sorted({i_min, i_max}):
            out_x.append(xs[i])
            out_y.append(ys[i])
    return out_x, out_y


@dataclass(frozen=True)
class Progress:
    step: int
    total: int | None
    epoch: float | None
    elapsed_s: float
    eta_s: float | None


class RunHistory:
    """Everything the monitor shows, folded from events in order."""

    def __init__(self, samples: int = 5):
        self.loss = Series()
        self.smoothed = Series()
        self.eval_loss = Series()
        self.lr = Series()
        self.grad_norm = Series()
        self.tokens_per_s = Series()
        self.samples: deque[dict[str, Any]] = deque(maxlen=samples)
        self.plan: dict[str, Any] = {}
        self.forgetting: dict[str, Any] = {}  # the forgetting meter's event, at the end
        self.status: dict[str, Any] = {}
        self.last_metrics: dict[str, Any] = {}
        self.first_t: float | None = None
        self.last_t: float | None = None
        self._step_times: deque[tuple[float, float]] = deque(maxlen=20)
        self.count = 0

    def add(self, events: list[dict[str, Any]]) -> None:
        for event in events:
            self._add(event)

    def _add(self, event: dict[str, Any]) -> None:
        self.count += 1
        t = to_float(event.get("t"))
        if t is not None:
            self.first_t = t if self.first_t is None else self.first_t
            self.last_t = t
        kind = event.get("type")
        if kind == "metrics":
            self._add_metrics(event, t)
        elif kind == "eval":
            step, value = to_float(event.get("step")), to_float(event.get("eval_loss"))
            if step is not None and value is not None:
                self.eval_loss.add(step, value)
        elif kind == "plan":
            self.plan = event
        elif kind == "status":
            self.status = event
            self._step_times.clear()  # a (re)start: the time stopped must not slow the ETA
        elif kind == "sample":
            self.samples.append(event)
        elif kind == "forgetting":
            self.forgetting = event

    def _add_metrics(self, event: dict[str, Any], t: float | None) -> None:
        step = to_float(event.get("step"))
        if step is None:
            return
        self.last_metrics = event
        if t is not None:
            self._step_times.append((t, step))
        loss = to_float(event.get("loss"))
        if loss is not None:
            self.loss.add(step, loss)
            if math.isfinite(loss):
                self.smoothed.add(step, ema([loss], start=self.smoothed.last)[0])
        for name in ("lr", "grad_norm", "tokens_per_s"):
            value = to_float(event.get(name))
            if value is not None:
                getattr(self, name).add(step, value)

    @property
    def status_name(self) -> str:
        return str(self.status.get("status") or "")

    def progress(self, now: float, live: bool) -> Progress:
        step = int(to_float(self.last_metrics.get("step")) or 0)
        total = to_float(self.plan.get("total_steps"))
        epoch = to_float(self.last_metrics.get("epoch"))
        end = now if live and self.status_name not in TERMINAL_STATUSES else self.last_t
        start = self.first_t if self.first_t is not None else end
        elapsed = max(0.0, end - start) if end is not None and start is not None else 0.0
        eta = None
        if total and live and len(self._step_times) >= 2:
            (t0, s0), (t1, s1) = self._step_times[0], self._step_times[-1]
            if s1 > s0 and t1 > t0:
                eta = max(0.0, (total - step) * (t1 - t0) / (s1 - s0))
        return Progress(step, int(total) if total else None, epoch, elapsed, eta)


def format_duration(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "--:--"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def format_value(value: float | None, digits: int = 4) -> str:
    """A metric for display; NaN and inf print as such, a missing value as '-' (never 0)."""
    if value is None:
        return "-"
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return f"{value:.{digits}g}"


def step_ticks(first: float, last: float, count: int = 5) -> list[int]:
    """About `count` whole-number ticks from first to last, 1, 2 or 5 times a power of ten
    apart: steps are counted, so an axis never reads 78.8."""
    lo, hi = math.ceil(first), math.floor(last)
    if hi <= lo:
        return [lo] if lo == hi else []
    raw = (hi - lo) / max(count - 1, 1)
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    nice = sorted((m * magnitude for m in (1, 2, 5, 10)), key=lambda g: abs(math.log(g / raw)))
    for spacing in nice:  # the closest spacing that still puts two ticks on the axis
        start = math.ceil(lo / spacing) * spacing
        ticks = list(range(int(start), hi + 1, int(spacing)))
        if len(ticks) >= 2:
            return ticks
    return [lo, hi]
