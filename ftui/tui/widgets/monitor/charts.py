"""Training charts: loss (raw, smoothed, eval) on one plot; small plots for lr, grad norm and
throughput. The history keeps every point; each redraw plots a thinned copy (min/max buckets,
about 500 points a line), so 100,000 steps stay responsive."""

from __future__ import annotations

from rich.text import Text
from textual.app import RenderResult
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
    """Training loss raw (thin line) and smoothed (EMA), with eval loss on the same axes.

    The legend is a line of its own above the plot: plotext paints its legend over the top
    left of the canvas, where a run's highest losses are (the step-0 eval among them). Each
    eval is a bold point on a faint line through them, so the measurements stand out, and
    each y label names its own row (plotext put 7 labels on 6 rows, dropped one and moved
    the rest by up to half a row)."""

    LOSS, SMOOTHED, EVAL = 8, 6, 3  # colours (plotext's gray, cyan and orange)
    EVAL_POINT = "•"  # one cell wide in every font ("●" renders wider and shifts the row)
    FRAME_ROWS = 4  # what the plot's box, x ticks and x label take of its height

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__("loss", "loss", "gray", id=id, classes=classes)
        self.legend = Text()
        self._ylim: tuple[float, float] | None = None

    def _empty(self) -> None:
        self.plt.clear_data()
        self._ylim = None
        self.legend = Text(f"{self.title}: waiting for the first step")

    def _row_ticks(self, rows: int) -> None:
        """A y label on each row (every other one past 8 rows) naming the row's own value."""
        if self._ylim is None or rows < 2 or self._ylim[0] == self._ylim[1]:
            return
        lo, hi = self._ylim
        values = [lo + r * (hi - lo) / (rows - 1) for r in range(0, rows, 1 if rows <= 8 else 2)]
        self.plt.ylim(lo, hi)
        self.plt.yticks(values, [format_value(v, 2 if hi - lo >= 1 else 3) for v in values])

    def render(self) -> RenderResult:
        height = max(1, self.size.height - 1)  # the legend is the widget's first row
        self._row_ticks(height - self.FRAME_ROWS)
        self.plt.plotsize(self.size.width, height)
        self.plt._set_size(self.size.width, height)  # as PlotextPlot.render does
        self.plt.theme(self._get_plotext_theme_name(self.app.theme))
        legend = self.legend.copy()
        legend.pad_left(max(0, (self.size.width - legend.cell_len) // 2))  # centred, as a title
        return Text("\n").join([legend, Text.from_ansi(self.plt.build())])

    def draw(self, history: RunHistory) -> None:
        loss = history.loss
        if not loss.xs and not loss.nonfinite:
            self._empty()
            self.plotted_points = 0
            return
        keys = [("━ loss", loss.last, self.LOSS)]
        if history.smoothed.last is not None:
            keys.append(("━ smoothed", history.smoothed.last, self.SMOOTHED))
        if history.eval_loss.last is not None:
            keys.append((f"{self.EVAL_POINT} eval", history.eval_loss.last, self.EVAL))
        self.legend = Text("  ").join(
            Text(f"{key} {format_value(value)}", style=f"color({colour})")
            for key, value, colour in keys
        )
        self.legend.append(_nonfinite_note(loss))
        every_y = loss.ys + history.smoothed.ys + history.eval_loss.ys
        self._ylim = (min(every_y), max(every_y)) if every_y else None
        self._frame("", loss.xs or history.eval_loss.xs)
        drawn = 0
        if loss.xs:
            xs, ys = thin(loss.xs, loss.ys, DISPLAY_POINTS)
            self.plt.plot(xs, ys, color=self.LOSS, marker="hd")
            sx, sy = thin(history.smoothed.xs, history.smoothed.ys, DISPLAY_POINTS)
            self.plt.plot(sx, sy, color=self.SMOOTHED, marker="hd")
            drawn += len(xs) + len(sx)
        if history.eval_loss.xs:
            ex, ey = thin(history.eval_loss.xs, history.eval_loss.ys, DISPLAY_POINTS)
            self.plt.plot(ex, ey, color=self.EVAL, marker="·")
            self.plt.scatter(ex, ey, color=self.EVAL, marker=self.EVAL_POINT)
            drawn += len(ex)
        self.plotted_points = drawn
