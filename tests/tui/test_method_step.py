"""The Method step: target-module presets from the model's real module names, a custom pick,
and the trainable-parameter count computed from the real config."""

from __future__ import annotations

from textual.widgets import RadioSet, SelectionList

from ftui.tui.screens.wizard.method import MethodScreen

from .wizard_helpers import make_app, settle


async def test_target_presets_and_custom_pick_follow_the_model() -> None:
    app = make_app(gpus=0, preset="demo", step="method")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, MethodScreen)
        facts = app.model_facts.value
        assert facts is not None, app.model_facts.error
        assert {"q_proj", "v_proj", "down_proj"} <= set(facts.linear_module_names)
        before = str(app.screen.query_one("#trainable").render())
        assert "Trainable parameters:" in before and "%" in before

        presets = app.screen.query_one("#target-preset", RadioSet)
        presets.focus()
        await pilot.press("up", "up", "enter")  # from all-linear (the spec's) to attention q/v
        await pilot.pause()
        assert app.draft.get("method.lora.target_modules") == ["q_proj", "v_proj"]
        after = str(app.screen.query_one("#trainable").render())
        assert after != before  # fewer adapters than all-linear

        await pilot.press("down", "enter")  # all attention
        await pilot.pause()
        assert sorted(app.draft.get("method.lora.target_modules")) == [
            "k_proj",
            "o_proj",
            "q_proj",
            "v_proj",
        ]

        await pilot.press("down", "down", "enter")  # custom: starts from the current list
        await pilot.pause()
        picker = app.screen.query_one("#targets-custom", SelectionList)
        assert picker.display
        assert set(picker.selected) == {"k_proj", "o_proj", "q_proj", "v_proj"}
        picker.focus()
        index = [o.value for o in picker.options].index("down_proj")
        picker.highlighted = index
        await pilot.press("space")
        await pilot.pause()
        assert "down_proj" in app.draft.get("method.lora.target_modules")
        assert app.spec is not None


async def test_full_fine_tune_hides_the_adapter_and_counts_every_weight() -> None:
    app = make_app(gpus=0, preset="demo", step="method")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        kinds = app.screen.query_one("#kind", RadioSet)
        kinds.focus()
        await pilot.press("up", "enter")  # the highlight starts on LoRA, the spec's kind
        await pilot.pause()
        assert app.draft.get("method.kind") == "full"
        assert not app.screen.query_one("#lora").display
        assert "(every weight of the model)" in str(app.screen.query_one("#trainable").render())


async def test_targets_follow_a_gpt2_model_and_names_it_lacks_are_refused(tmp_path) -> None:
    from ftui.core.demo import build_tiny_model
    from ftui.core.presets import resolve_spec
    from ftui.tui.app import FtuiApp

    from .fake_nvml import FakeNvml

    gpt2 = build_tiny_model(tmp_path / "gpt2", family="gpt2", hidden_size=32)
    spec = resolve_spec(
        "demo",
        [f"model.name_or_path={gpt2}", "method.lora.target_modules=[q_proj, v_proj]"],
    )
    app = FtuiApp(spec, nvml=FakeNvml(0), runs_root=tmp_path / "runs", step="method")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert app.model_facts.value is not None, app.model_facts.error
        error = str(app.screen.query_one("#targets-error").render())
        assert "q_proj, v_proj not found in this gpt2 model" in error
        assert "its linear layers are c_attn, c_proj, c_fc" in error

        presets = app.screen.query_one("#target-preset", RadioSet)
        presets.focus()
        # From "custom pick" (q_proj, v_proj is no preset on gpt2) up to "attention q/v".
        await pilot.press("up", "up", "up", "enter")  # gpt2's fused c_attn
        await pilot.pause()
        assert app.draft.get("method.lora.target_modules") == ["c_attn"]
        assert str(app.screen.query_one("#targets-error").render()).strip() == ""

        await pilot.press("down", "down", "enter")  # all linear, the default
        await pilot.pause()
        assert app.draft.get("method.lora.target_modules") == "all-linear"
        resolved = str(app.screen.query_one("#targets-resolved").render())
        assert "targets: all-linear = c_attn, c_proj, c_fc" in resolved


async def test_parameter_counts_agree_with_the_model_step_and_show_the_adapter() -> None:
    from ftui.tui.screens.wizard.model import ModelScreen

    app = make_app(gpus=0, preset="demo", step="model")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ModelScreen)
        assert "parameters 181K" in " ".join(_text(app, "#facts").split()), _text(app, "#facts")
        app.open_step("method")
        await settle(pilot)
        shown = " ".join(_text(app, "#trainable").split())
        assert shown == (
            "Trainable parameters: 139K = adapter 32.8K + 106K in full copies of embed_tokens, "
            "lm_head (modules_to_save) on a frozen 181K base model: 43.5% of the 320K in training"
        )
        app.apply_changes({"method.kind": "full"})
        await settle(pilot)
        assert _text(app, "#trainable") == "Trainable parameters: 181K (every weight of the model)"


def _text(app: object, selector: str) -> str:
    from rich.console import Console

    console = Console(width=200, record=True)
    console.print(app.screen.query_one(selector).content)  # type: ignore[attr-defined]
    return console.export_text().strip()
