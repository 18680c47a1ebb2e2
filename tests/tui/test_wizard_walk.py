"""Walk the whole wizard with the keyboard only and check the RunSpec it produces."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ftui.core.presets import resolve_spec
from ftui.tui.screens.wizard.data import DataStepScreen
from ftui.tui.screens.wizard.hardware import HardwareScreen
from ftui.tui.screens.wizard.method import MethodScreen
from ftui.tui.screens.wizard.model import ModelScreen
from ftui.tui.screens.wizard.review import ReviewScreen
from ftui.tui.screens.wizard.start import StartScreen
from ftui.tui.screens.wizard.template import TemplateStepScreen
from ftui.tui.screens.wizard.training import TrainingScreen
from ftui.tui.widgets.wizard.spec_form import FieldRow, row_id
from ftui.tui.widgets.wizard.step_list import StepList

from .wizard_helpers import make_app, settle

SCRATCH_YAML = """\
name: scratch
model:
  name_or_path: builtin:demo-tiny-llama
  revision: null
  dtype: auto
  attn_implementation: auto
  trust_remote_code: false
  quantization: none
data:
  source: my-data.jsonl
  subset: null
  split: train
  eval_split: auto
  format: auto
  columns:
    prompt: question
    response: answer
  max_seq_len: 1024
  packing: false
  max_row_bytes: 1048576
template:
  name: tokenizer
  system_prompt: null
  custom: null
  train_on_input: false
method:
  kind: full
  lora:
    r: 8
    alpha: 16.0
    dropout: 0.05
    target_modules: all-linear
    modules_to_save: []
    use_dora: false
    use_rslora: false
train:
  epochs: 2.0
  max_steps: null
  per_device_batch_size: 4
  gradient_accumulation_steps: 1
  learning_rate: 0.0001
  optimizer: adamw
  weight_decay: 0.0
  lr_scheduler: cosine
  warmup_steps: 0
  gradient_checkpointing: false
  torch_compile: false
  seed: 42
  logging_steps: 10
  eval_steps: null
  save_steps: 500
  save_total_limit: 2
  report_to: []
launch:
  nproc_per_node: auto
  gpus: null
  nnodes: 1
  node_rank: 0
  rdzv_endpoint: null
  strategy: ddp
output:
  root: runs
generation:
  max_new_tokens: 128
  temperature: 0.0
  top_k: 50
  top_p: 1.0
"""


async def next_step(pilot, screen_type):  # type: ignore[no-untyped-def]
    await pilot.press("ctrl+n")
    await settle(pilot)
    assert isinstance(pilot.app.screen, screen_type), pilot.app.screen


def focused_row(app) -> str:  # type: ignore[no-untyped-def]
    rows = [a for a in app.focused.ancestors if isinstance(a, FieldRow)]
    return rows[0].path if rows else ""


async def tab_to(pilot, path: str, limit: int = 40) -> None:  # type: ignore[no-untyped-def]
    for _ in range(limit):
        if focused_row(pilot.app) == path:
            return
        await pilot.press("tab")
    raise AssertionError(f"tab never reached {path}")


async def test_walk_from_demo_preset_with_keyboard_only() -> None:
    app = make_app(gpus=0, preset="demo")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, StartScreen)
        for screen in (
            HardwareScreen,
            ModelScreen,
            DataStepScreen,
            TemplateStepScreen,
            MethodScreen,
        ):
            await next_step(pilot, screen)
        await next_step(pilot, TrainingScreen)
        await tab_to(pilot, "train.learning_rate")
        await pilot.press(*"0.001")
        await tab_to(pilot, "train.warmup_steps")
        await pilot.press("1", "0")
        await next_step(pilot, ReviewScreen)
        # back and forth keeps what was typed
        await pilot.press("ctrl+p")
        await settle(pilot)
        row = app.screen.query_one(f"#{row_id('train.learning_rate')}", FieldRow)
        assert row.control.value == "0.001"
        await next_step(pilot, ReviewScreen)
        expected = resolve_spec(
            "demo", ["train.learning_rate=0.001", "train.warmup_steps=10"]
        ).to_yaml()
        assert app.spec is not None
        assert app.spec.to_yaml() == expected


async def test_walk_from_scratch_with_keyboard_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    rows = [{"id": i, "question": f"q{i}?", "answer": f"a{i}."} for i in range(3)]
    (tmp_path / "my-data.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    app = make_app(gpus=0)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("enter")  # "Start fresh" is the first preset option
        await settle(pilot)
        assert isinstance(app.screen, HardwareScreen)
        assert app.preset_name is None
        await next_step(pilot, ModelScreen)
        await next_step(pilot, DataStepScreen)
        await tab_to(pilot, "data.source")
        await pilot.press(*"my-data.jsonl")
        for _ in range(300):  # the rows are read once typing pauses (a debounce timer)
            if app.screen.query_one("#accept-mapping").display:
                break
            await pilot.pause(0.05)
            await settle(pilot)
        for _ in range(8):  # past the source fields to the button that takes the proposal
            if app.focused.id == "accept-mapping":
                break
            await pilot.press("tab")
        assert app.focused.id == "accept-mapping"
        await pilot.press("enter")
        await settle(pilot)
        await next_step(pilot, TemplateStepScreen)
        await next_step(pilot, MethodScreen)
        # the method radio set has the cursor, on the spec's kind (LoRA); full fine-tune is above
        await pilot.press("up", "enter")
        await settle(pilot)
        await next_step(pilot, TrainingScreen)
        await pilot.press(*"2")  # epochs (first field, its text selected on focus)
        await tab_to(pilot, "train.learning_rate")
        await pilot.press(*"1e-4")
        await next_step(pilot, ReviewScreen)
        await pilot.press(*"scratch")  # run name is the first field of Review
        await settle(pilot)
        assert app.validation.errors == {}
        assert app.spec is not None
        assert app.spec.to_yaml() == SCRATCH_YAML


async def test_invalid_field_is_marked_in_place_and_on_the_step_list() -> None:
    app = make_app(gpus=0, preset="demo", step="training", field="train.learning_rate")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press(*"fast")
        await pilot.pause()
        row = app.screen.query_one(f"#{row_id('train.learning_rate')}", FieldRow)
        assert row.has_class("-invalid")
        assert "train.learning_rate: expected a positive number, got 'fast'" in row.errors
        assert "training" in app.screen.query_one(StepList).invalid
        assert app.spec is None
        # another step still shows Training as invalid, and the typed text survives the trip
        await pilot.press("ctrl+p")
        await settle(pilot)
        assert "training" in app.screen.query_one(StepList).invalid
        await pilot.press("ctrl+n")
        await settle(pilot)
        row = app.screen.query_one(f"#{row_id('train.learning_rate')}", FieldRow)
        assert row.control.value == "fast" and row.has_class("-invalid")


async def test_contradiction_marks_both_fields() -> None:
    app = make_app(gpus=0, preset="demo", step="training", field="train.eval_steps")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("5", "0")
        await pilot.pause()
        assert set(app.validation.errors) >= {"train.eval_steps", "data.eval_split"}
        assert app.screen.query_one(StepList).invalid >= {"training", "data"}


async def test_open_field_focuses_it(tmp_path: Path) -> None:
    app = make_app(gpus=0, preset="demo")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        app.open_field("method.lora.r")
        await settle(pilot)
        assert isinstance(app.screen, MethodScreen)
        assert focused_row(app) == "method.lora.r"


async def test_launch_with_an_invalid_field_jumps_to_it() -> None:
    app = make_app(gpus=0, preset="demo", step="training", field="train.warmup_steps")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press(*"-3")
        app.open_step("review")
        await settle(pilot)
        assert "train.warmup_steps" in str(app.screen.query_one("#problems").render())
        await pilot.press("ctrl+l")
        await settle(pilot)
        assert isinstance(app.screen, TrainingScreen)
        assert focused_row(app) == "train.warmup_steps"
        assert app.launch_state.value is None and not app.launch_state.loading


def test_every_step_has_its_screen_in_order() -> None:
    from ftui.tui.screens.wizard.step_screens import STEP_SCREENS
    from ftui.tui.steps import step_ids

    assert list(STEP_SCREENS) == step_ids()
