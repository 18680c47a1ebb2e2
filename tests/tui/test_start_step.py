"""The Start step offers both demos first: the instant toy (the default) and the real-model
demo, each saying what it costs; choosing the real one loads its spec."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import OptionList

from ftui.core.demo import REAL_DEMO_PRESET, SMOLLM2_MODEL_REF, TOY_DEMO_PRESET
from ftui.core.presets import list_presets
from ftui.tui.screens.wizard.start import FRESH, demos_first

from .wizard_helpers import make_app, settle


async def test_the_two_demos_come_first_with_what_they_cost(ftui_home: Path) -> None:
    app = make_app(gpus=0)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        options = app.screen.query_one("#presets", OptionList)
        ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
        assert ids[:3] == [FRESH, TOY_DEMO_PRESET, REAL_DEMO_PRESET]
        toy, real = (str(options.get_option_at_index(i).prompt) for i in (1, 2))
        assert "instant" in toy
        assert "fetches 88.6 MiB once from PyPI" in real and "minutes on a CPU" in real
        options.focus()
        options.highlighted = 2
        await pilot.press("enter")
        await settle(pilot)
        assert app.spec is not None and app.spec.model.name_or_path == SMOLLM2_MODEL_REF
        assert app.spec.template.name == "tokenizer"


def test_demos_first_only_reorders() -> None:
    builtins = list_presets()
    ordered = demos_first(builtins)
    assert [p.name for p in ordered[:2]] == [TOY_DEMO_PRESET, REAL_DEMO_PRESET]
    assert sorted(p.name for p in ordered) == sorted(p.name for p in builtins)
