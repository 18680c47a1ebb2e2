"""The Model step: facts read from the model's config in a worker, a clear message for a hub
model that is not cached while offline, and picking the built-in model from the list."""

from __future__ import annotations

import io

from textual.widgets import OptionList

from ftui.tui.screens.wizard.model import DEMO, ModelScreen
from ftui.tui.widgets.wizard.hub_search import worth_searching

from .wizard_helpers import make_app, settle, wait_until


async def test_uncached_hub_model_offline_says_what_to_do_then_demo_is_picked() -> None:
    app = make_app(gpus=0, preset="demo", step="model", field="model.name_or_path")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ModelScreen)
        assert app.model_facts.value.architecture == "LlamaForCausalLM"
        await pilot.press(*"meta-llama/Llama-3.1-8B")  # replaces the selected text
        # inspection and hub search wait for typing to pause
        await wait_until(pilot, lambda: app.model_facts.key[0] == "meta-llama/Llama-3.1-8B")
        await wait_until(pilot, lambda: not app.model_facts.loading)
        await wait_until(pilot, lambda: app.screen.query_one("#hub-note").display)
        assert "hub search is off: HF_HUB_OFFLINE=1" in str(
            app.screen.query_one("#hub-note").render()
        )
        assert app.model_facts.key[0] == "meta-llama/Llama-3.1-8B"
        assert app.model_facts.value is None
        assert "not in the Hugging Face cache" in app.model_facts.error
        assert "ftui download meta-llama/Llama-3.1-8B" in str(
            app.screen.query_one("#facts").render()
        )
        options = app.screen.query_one("#cached", OptionList)
        options.focus()
        options.highlighted = 0
        await pilot.press("enter")
        await settle(pilot)
        assert app.draft.get("model.name_or_path") == DEMO
        assert app.model_facts.value is not None and app.model_facts.key[0] == DEMO


def test_paths_and_the_builtin_model_are_not_searched() -> None:
    assert worth_searching("meta-llama")
    assert not worth_searching("ll")
    assert not worth_searching("builtin:demo-tiny-llama")
    assert not worth_searching("/models/llama")
    assert not worth_searching("./llama")


async def test_a_gguf_file_says_it_is_dequantised_and_what_it_trains_in(tmp_path) -> None:
    from ftui.core.presets import resolve_spec
    from ftui.tui.app import FtuiApp
    from tests.real_artefacts import smollm2_gguf

    from .fake_nvml import FakeNvml

    path = smollm2_gguf()
    spec = resolve_spec("demo", [f"model.name_or_path={path}"])
    app = FtuiApp(spec, nvml=FakeNvml(0), runs_root=tmp_path / "runs", step="model")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        facts = app.model_facts.value
        assert facts is not None, app.model_facts.error
        assert facts.gguf is not None and facts.num_layers == 30
        from rich.console import Console

        console = Console(width=120, record=True, file=io.StringIO())
        console.print(app.screen.query_one("#facts").content)
        text = " ".join(console.export_text().split())
        assert "GGUF Q4_1 (98 MB)" in text
        assert "dequantised to float32 for training" in text
        assert "fp32 (model.dtype fp32)" in text  # the demo preset states fp32
        assert "a local GGUF file" in text
        assert "SmolLM's pre-tokenizer restored" in text


def test_lora_can_target_lists_what_all_linear_adapts_never_the_output_head() -> None:
    """The Model step's "LoRA can target" row is the all-linear list: lm_head is left out, as
    `all-linear` leaves it out (it listed lm_head, which no default adapts)."""
    from rich.console import Console

    from ftui.core.check.preflight import model_facts
    from ftui.core.spec import RunSpec
    from ftui.tui.widgets.wizard.model_facts import facts_table

    facts = model_facts(RunSpec())  # the demo: a Llama with lm_head as its output layer
    console = Console(file=io.StringIO(), width=200)
    console.print(facts_table(facts))
    row = next(line for line in console.file.getvalue().splitlines() if "LoRA can target" in line)
    assert "q_proj" in row and "down_proj" in row
    assert "lm_head" not in row, row
