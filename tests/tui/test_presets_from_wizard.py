"""Saving a preset from the wizard and loading it again gives back exactly the same spec."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input

from ftui.core.presets import resolve_spec
from ftui.tui.screens.dialogs.save_preset import SavePresetScreen
from ftui.tui.screens.wizard.hardware import HardwareScreen
from ftui.tui.screens.wizard.start import StartScreen

from .wizard_helpers import make_app, settle


async def test_save_preset_and_reload_round_trips(ftui_home: Path) -> None:
    app = make_app(gpus=0, preset="demo", step="training", field="train.learning_rate")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press(*"0.0003")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, SavePresetScreen)
        # a built-in name is refused in the dialog, which stays open
        await pilot.press(*"demo", "enter")
        await pilot.pause()
        assert isinstance(app.screen, SavePresetScreen)
        assert "built in" in str(app.screen.query_one("#preset-error").render())
        await pilot.press(*["backspace"] * 4, *"my-lr")
        description = app.screen.query_one("#preset-description", Input)
        assert description.value.startswith("the offline demo.")  # the loaded preset's
        description.value = "Demo at a lower learning rate, to compare with the demo's loss."
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, SavePresetScreen)
        path = ftui_home / "config" / "presets" / "my-lr.yaml"
        assert path.is_file()
        saved = app.spec
        assert saved is not None and saved.train.learning_rate == 0.0003
        assert resolve_spec("my-lr").to_yaml() == saved.to_yaml()

        # load it from the Start step after changing the draft: the edit is gone
        app.apply_changes({"train.learning_rate": 0.1})
        app.open_step("start")
        await settle(pilot)
        assert isinstance(app.screen, StartScreen)
        options = app.screen.query_one("#presets")
        index = next(
            i for i in range(options.option_count) if options.get_option_at_index(i).id == "my-lr"
        )
        shown = str(options.get_option_at_index(index).prompt)
        assert "Demo at a lower learning rate, to compare with the demo's loss." in shown
        alpaca = next(
            str(options.get_option_at_index(i).prompt)
            for i in range(options.option_count)
            if options.get_option_at_index(i).id == "llama2-7b-full-alpaca"
        )
        assert alpaca.endswith("bf16: torchtune's low-memory full fine-tune recipe.")  # whole
        options.focus()
        options.highlighted = index
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, HardwareScreen)
        assert app.preset_name == "my-lr"
        assert app.spec is not None and app.spec.to_yaml() == saved.to_yaml()
