"""The loss chart as a person sees it: where its eval points land on the rendered canvas."""

from __future__ import annotations

import math
from typing import Any

from rich.text import Text

from ftui.core.runs.metrics import RunHistory
from ftui.tui.widgets.monitor.charts import LossChart

SIZE = (84, 11)  # the loss chart's size in the monitor at 120x36
EVAL_ORANGE = 3  # plotext's "orange": the eval series' colour
# the eval-card demo run's eval events (screenshots/eval-card.svg): step 0 before training
EVALS = [(0, 6.775), (50, 2.673), (100, 2.800), (150, 2.956), (200, 3.047), (240, 3.046)]


def demo_like_events() -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = [
        {"t": float(s), "type": "metrics", "step": s, "loss": 0.42 + 6.2 * math.exp(-s / 12)}
        for s in range(5, 241, 5)  # logged every 5 steps, as the demo preset does
    ]
    events += [{"t": 300.0 + s, "type": "eval", "step": s, "eval_loss": v} for s, v in EVALS]
    return events


def canvas(rendered: Text) -> list[Text]:
    """The rows inside the plot's box, each cut to the box's inner columns."""
    lines = rendered.split("\n")
    top = next(i for i, line in enumerate(lines) if "┌" in line.plain)
    bottom = next(i for i, line in enumerate(lines) if "└" in line.plain)
    left, right = lines[top].plain.index("┌") + 1, lines[top].plain.index("┐")
    return [line[left:right] for line in lines[top + 1 : bottom]]


def cell_index(value: float, lo: float, hi: float, cells: int) -> int:
    """plotext's own mapping of a value to a cell (_utility.get_matrix_data)."""
    return math.floor(0.5 + (cells - 1) * (value - lo) / (hi - lo))


def colour_at(row: Text, col: int) -> int | None:
    styles = [span.style for span in row.spans if span.start <= col < span.end]
    colours = [s.color for s in styles if not isinstance(s, str) and s.color is not None]
    return colours[-1].number if colours else None


async def test_every_eval_point_is_drawn_at_its_step_and_loss() -> None:
    """The chart once drew the eval series as a flat dotted line: plotext's legend sat over the
    step-0 point (top left, where a run's highest loss is), and the line's one-dot-a-cell
    marker hid which cells were measurements."""
    from textual.app import App

    history = RunHistory()
    history.add(demo_like_events())

    class ChartApp(App):
        def compose(self):  # type: ignore[no-untyped-def]
            yield LossChart()

    app = ChartApp()
    async with app.run_test(size=SIZE) as pilot:
        chart = app.query_one(LossChart)
        chart.show(history)
        await pilot.pause()
        rows = canvas(chart.render())  # type: ignore[arg-type]
    xs = history.loss.xs + history.smoothed.xs + history.eval_loss.xs
    ys = history.loss.ys + history.smoothed.ys + history.eval_loss.ys
    height, width = len(rows), rows[0].cell_len
    assert height >= 4 and width >= 40
    for step, loss in EVALS:
        col = cell_index(step, min(xs), max(xs), width)
        row = height - 1 - cell_index(loss, min(ys), max(ys), height)
        glyph = rows[row].plain[col]
        assert glyph != " " and colour_at(rows[row], col) == EVAL_ORANGE, (
            f"eval {loss} at step {step}: expected the eval marker at row {row} col {col}, "
            f"found {glyph!r}; canvas:\n" + "\n".join(r.plain for r in rows)
        )
