"""Where the cursor is, seen: a focused field stands out, Tab into the Columns shows them
all, the Method list highlights the spec's kind, the step list's cursor returns to ▶."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets import Input, Label, RadioButton

from tests.data_fixtures import write_xsum_parquet

from .test_data_step import wizard
from .wizard_helpers import make_app, settle


def distance(a: Any, b: Any) -> int:
    return sum(abs(x - y) for x, y in zip(a.rgb, b.rgb, strict=True))


async def test_a_focused_field_stands_out(tmp_path: Path) -> None:
    app = wizard(write_xsum_parquet(tmp_path), "data")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        subset = app.screen.query_one("#field-data-subset Input", Input)
        split = app.screen.query_one("#field-data-split Input", Input)
        subset.focus()
        await pilot.pause()
        # the background the user sees (blended over its parents), not the declared one
        assert distance(subset.background_colors[1], split.background_colors[1]) > 60
        label = app.screen.query_one("#field-data-subset Label", Label)
        other = app.screen.query_one("#field-data-split Label", Label)
        assert label.styles.color != other.styles.color and label.styles.text_style.bold


async def test_tab_into_the_columns_shows_every_role(tmp_path: Path) -> None:
    app = wizard(write_xsum_parquet(tmp_path, rows=20), "data")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        app.screen.query_one("#preview-table").focus()
        await pilot.press("tab")
        await pilot.pause()
        assert app.focused is app.screen.query_one("#map-prompt")
        body = app.screen.query_one("#body").region
        for line in ("#map-prompt", "#map-text", "#mapper-ignored"):
            assert body.contains_region(app.screen.query_one(line).region), line


async def test_the_method_list_highlights_the_specs_kind() -> None:
    app = make_app(gpus=0, preset="demo", step="method")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert app.spec is not None and app.spec.method.kind == "lora"
        highlighted = [b.id for b in app.screen.query(RadioButton) if b.has_class("-selected")]
        assert "kind-lora" in highlighted and "kind-full" not in highlighted
        await pilot.press("enter")  # enter on the highlighted line keeps LoRA
        await settle(pilot)
        assert app.spec.method.kind == "lora"


async def test_the_step_lists_cursor_goes_back_to_the_current_step() -> None:
    app = make_app(gpus=0, preset="demo", step="data")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        steps = app.screen.query_one("#steps")
        steps.focus()
        await pilot.press("down", "down")
        assert steps.highlighted == 5  # the cursor moves; ▶ stays on Data
        await pilot.press("tab")
        assert steps.highlighted == 3
