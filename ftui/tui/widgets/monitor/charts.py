"""Training charts: loss (raw, smoothed, eval) on one plot; small plots for lr, grad norm and
throughput. The history keeps every point; each redraw plots a thinned copy (min/max buckets,
about 500 points a line), so 100,000 steps stay responsive."""

from __future__ import annotations

from textual_plotext import PlotextPlot

from ftui.core.runs.metrics import (
    DISPLAY_POINTS,
    RunHistory,
    Series,
    format_value,
    step_ticks,
    thin,
)

TICK_EVERY_COLUMNS = 12  # about one step label per this many columns


def _nonfinite_note(series: Series) -> str:
    if not series.nonfinite:
        return ""
    step, value = series.nonfinite[0]
    return f"  [{format_value(value)} at step {int(step)}]"


class MetricChart(PlotextPlot):
    """One metric over steps. The parent hands it the history with `show(history)`."""

    def __init__(
        self,
        metric: str,
        title: str,
        color: str = "cyan",
        *,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.metric = metric
        self.title = title
        self.color = color
        self.plotted_points = 0  # what the last redraw drew, after thinning (tests read it)
        self._drawn_count = -1

    def on_mount(self) -> None:
        super().on_mount()
        self._empty()

    def _empty(self) -> None:
        self.plt.clear_data()
        self.plt.title(f"{self.title}: waiting for the first step")

    def _frame(self, title: str, xs: list[float]) -> None:
        self.plt.clear_data()
        self.plt.title(title)
        self.plt.xlabel("step")
        if xs:  # whole steps: plotext's own ticks would read 78.8
            ticks = step_ticks(xs[0], xs[-1], max(2, self.size.width // TICK_EVERY_COLUMNS))
            self.plt.xticks(ticks, [str(t) for t in ticks])

    def show(self, history: RunHistory) -> None:
        if history.count == self._drawn_count:
            return
        self._drawn_count = history.count
        self.draw(history)
        self.refresh()

    def draw(self, history: RunHistory) -> None:
        series: Series = getattr(history, self.metric)
        if not series.xs:
            self._empty()
            self.plotted_points = 0
            return
        self._frame(f"{self.title} {format_value(series.last)}{_nonfinite_note(series)}", series.xs)
        xs, ys = thin(series.xs, series.ys, DISPLAY_POINTS)
        self.plt.plot(xs, ys, color=self.color, marker="hd")
        self.plotted_points = len(xs)


class LossChart(MetricChart):
    """Training loss raw (thin line) and smoothed (EMA), with eval loss on the same axes."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__("loss", "loss", "gray", id=id, classes=classes)

    def draw(self, history: RunHistory) -> None:
        loss = history.loss
        if not loss.xs and not loss.nonfinite:
            self._empty()
            self.plotted_points = 0
            return
        parts = [f"loss {format_value(loss.last)}"]
        if history.smoothed.last is not None:
            parts.append(f"smoothed {format_value(history.smoothed.last)}")
        if history.eval_loss.last is not None:
            parts.append(f"eval {format_value(history.eval_loss.last)}")
        self._frame("  ".join(parts) + _nonfinite_note(loss), loss.xs or history.eval_loss.xs)
        drawn = 0
        if loss.xs:
            xs, ys = thin(loss.xs, loss.ys, DISPLAY_POINTS)
            self.plt.plot(xs, ys, color="gray", marker="hd", label="loss")
            sx, sy = thin(history.smoothed.xs, history.smoothed.ys, DISPLAY_POINTS)
            self.plt.plot(sx, sy, color="cyan", marker="hd", label="smoothed")
            drawn += len(xs) + len(sx)
        if history.eval_loss.xs:
            ex, ey = thin(history.eval_loss.xs, history.eval_loss.ys, DISPLAY_POINTS)
            self.plt.plot(ex, ey, color="orange", marker="dot", label="eval")
            drawn += len(ex)
        self.plotted_points = drawn
