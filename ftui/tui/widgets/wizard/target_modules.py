"""LoRA target modules: a preset (attention q/v, all attention, all linear) or a custom pick
among the model's real linear module names, with what the choice resolves to on this model
(all-linear is the default: c_attn, c_proj, c_fc on gpt2). Posts `TargetsChanged(value)`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import RadioButton, RadioSet, SelectionList, Static

from ftui.tui.widgets.wizard.choice_set import ChoiceSet

ATTENTION = (
    "q_proj",
    "k_proj",
    "v_proj",
    "o_proj",
    "qkv_proj",
    "query_key_value",
    "c_attn",
    "Wqkv",
    "out_proj",
)
FUSED_QKV = ("qkv_proj", "query_key_value", "c_attn", "Wqkv")
PRESETS = (
    ("qv", "attention q/v"),
    ("attention", "all attention"),
    ("all-linear", "all linear"),
    ("custom", "custom pick"),
)

Targets = list[str] | str


def preset_targets(preset: str, available: list[str]) -> Targets:
    """The target list a preset means for a model with these linear module names."""
    if preset == "all-linear":
        return "all-linear"
    if preset == "qv":
        found = [n for n in available if n in ("q_proj", "v_proj")]
        return found or [n for n in available if n in FUSED_QKV] or ["q_proj", "v_proj"]
    found = [n for n in available if n in ATTENTION]
    return found or ["q_proj", "k_proj", "v_proj", "o_proj"]


def preset_of(value: Targets, available: list[str]) -> str:
    for preset in ("all-linear", "qv", "attention"):
        target = preset_targets(preset, available)
        if value == target or (
            isinstance(value, list) and isinstance(target, list) and sorted(value) == sorted(target)
        ):
            return preset
    return "custom"


class TargetModulesPicker(Vertical):
    @dataclass
    class TargetsChanged(Message):
        value: Targets

    def __init__(self, value: Targets, available: list[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.value = value
        self.available = available
        self.all_linear: list[str] = []  # what all-linear adapts on this model, in model order

    def compose(self) -> ComposeResult:
        current = preset_of(self.value, self.available)
        with ChoiceSet(id="target-preset", compact=True):
            for key, label in PRESETS:
                yield RadioButton(label, value=key == current, id=f"targets-{key}")
        yield Static("", id="targets-resolved", classes="field-help")
        yield SelectionList[str](id="targets-custom")

    def on_mount(self) -> None:
        self.set_available(self.available)

    def set_available(self, available: list[str], all_linear: list[str] | None = None) -> None:
        """The model's linear module names, and those all-linear resolves to (attributes down
        from the screen)."""
        self.available = available
        self.all_linear = list(all_linear or [])
        chosen = set(self.value) if isinstance(self.value, list) else set()
        names = sorted(set(available) | chosen)
        picker = self.query_one("#targets-custom", SelectionList)
        with picker.prevent(SelectionList.SelectedChanged):
            picker.clear_options()
            picker.add_options([(n, n, n in chosen) for n in names])
        current = preset_of(self.value, available)
        picker.display = current == "custom"
        # The model's names decide which preset the value is (q_proj, v_proj is "q/v" on
        # Llama and a custom pick on gpt2). The RadioSet.Changed this posts maps back to the
        # same value, so nothing is emitted.
        presets = self.query_one("#target-preset", RadioSet)
        presets.query_one(f"#targets-{current}", RadioButton).value = True
        self._describe()

    def _describe(self) -> None:
        if self.value == "all-linear":
            layers = ", ".join(self.all_linear) or "every linear layer but the output head"
            text = f"all-linear = {layers}"
        else:
            text = ", ".join(self.value) or "none"
        self.query_one("#targets-resolved", Static).update(f"targets: {text}")

    def _emit(self, value: Targets) -> None:
        if value != self.value:
            self.value = value
            self._describe()
            self.post_message(self.TargetsChanged(value))

    @on(RadioSet.Changed, "#target-preset")
    def _preset_changed(self, event: RadioSet.Changed) -> None:
        event.stop()
        key = (event.pressed.id or "").removeprefix("targets-")
        picker = self.query_one("#targets-custom", SelectionList)
        picker.display = key == "custom"
        if key == "custom":
            current = (
                self.value
                if isinstance(self.value, list)
                else preset_targets("attention", self.available)
            )
            with picker.prevent(SelectionList.SelectedChanged):
                picker.deselect_all()
                for name in current:
                    if name in self.available or name in [o.value for o in picker.options]:
                        picker.select(name)
            self._emit(list(current))
        else:
            self._emit(preset_targets(key, self.available))

    @on(SelectionList.SelectedChanged, "#targets-custom")
    def _custom_changed(self, event: SelectionList.SelectedChanged) -> None:
        event.stop()
        self._emit(sorted(event.selection_list.selected))
