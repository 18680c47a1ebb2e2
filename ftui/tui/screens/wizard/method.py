"""Method: full fine-tune, LoRA or QLoRA; the adapter's settings and its real size."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import RadioButton, RadioSet, Static

from ftui.core.model.facts import adapter_params, linear_layer_names, target_problem
from ftui.core.playground.vllm import vllm_lora_warning
from ftui.core.units import human_count
from ftui.tui.draft import Validation
from ftui.tui.loaded import Loaded
from ftui.tui.messages import SpecChanged
from ftui.tui.screens.wizard.base import StepScreen
from ftui.tui.widgets.wizard.choice_set import ChoiceSet
from ftui.tui.widgets.wizard.spec_form import FieldRow, SpecForm, row_id
from ftui.tui.widgets.wizard.target_modules import TargetModulesPicker

KINDS = (
    ("full", "Full fine-tune — every weight; the most memory"),
    ("lora", "LoRA — small adapters on a frozen base"),
    ("qlora", "QLoRA — LoRA on a 4-bit quantized base; the least memory"),
)
LORA_FIELDS = [
    "method.lora.r",
    "method.lora.alpha",
    "method.lora.dropout",
    "method.lora.use_dora",
    "method.lora.use_rslora",
    "method.lora.modules_to_save",
]


def quantization_blocker(hardware: Loaded) -> str | None:
    """Why QLoRA / 8-bit cannot run here, or None when they can."""
    report = hardware.value
    if hardware.loading:
        return "QLoRA and 8-bit: still detecting the hardware…"
    if report is None:
        return f"QLoRA and 8-bit need CUDA and bitsandbytes; hardware detection failed ({hardware.error})"
    if report.backend not in ("nvml", "torch-cuda") or not report.gpus:
        return "QLoRA and 8-bit need a CUDA GPU (bitsandbytes); none was found"
    if not report.bitsandbytes:
        return "QLoRA and 8-bit need bitsandbytes: pip install bitsandbytes"
    return None


def trainable_text(base: int | None, adapter: int, saved: int, method: Any) -> Text:
    """The model's own count (as the Model step shows it), and what this method trains on top
    of it: the adapter as its own number, the modules_to_save copies as theirs."""
    if method.kind == "full":
        return Text.assemble(
            "Trainable parameters: ", (human_count(base), "bold"), " (every weight of the model)"
        )
    out = Text.assemble(
        "Trainable parameters: ",
        (human_count(adapter + saved), "bold"),
        " = adapter ",
        (human_count(adapter), "bold"),
    )
    if saved:
        names = ", ".join(method.lora.modules_to_save)
        out.append(f" + {human_count(saved)} in full copies of {names} (modules_to_save)")
    total = (base or 0) + adapter + saved
    share = f"{100 * (adapter + saved) / total:.3g}%" if total else "?"
    out.append(f"\non a frozen {human_count(base)} base model: {share} of the ")
    out.append(f"{human_count(total)} in training")
    return out


class MethodScreen(StepScreen):
    STEP_ID = "method"

    def compose_body(self) -> ComposeResult:
        kind = self.value("method.kind")
        with ChoiceSet(id="kind"):
            for key, label in KINDS:
                yield RadioButton(label, value=key == kind, id=f"kind-{key}")
        yield Static("", id="trainable", classes="summary")
        yield Static("", id="quant-reason", classes="notice")
        yield self._quantization_row()
        with Vertical(id="lora"):
            yield Static("Adapter", classes="section-title")
            yield SpecForm(LORA_FIELDS, self.values(LORA_FIELDS))
            yield Static("", id="serving", classes="notice")
            yield Static("Target modules", classes="section-title")
            yield TargetModulesPicker(self.value("method.lora.target_modules"), [], id="targets")
            yield Static("", id="targets-error", classes="field-error")

    def _quantization_row(self) -> FieldRow:
        """8bit and 4bit are offered only where bitsandbytes can run (or when already set)."""
        current = self.value("model.quantization")
        allowed = ["none"]
        if quantization_blocker(self.wizard.hardware) is None:
            allowed += ["8bit", "4bit"]
        elif current != "none":
            allowed.append(current)
        return FieldRow("model.quantization", current, choices=[(q, q) for q in allowed])

    def on_mount(self) -> None:
        self.watch(self.app, "hardware", self._hardware_changed)
        self.watch(self.app, "model_facts", self._facts_changed)

    def _hardware_changed(self, hardware: Loaded) -> None:
        reason = quantization_blocker(hardware)
        self.query_one("#kind-qlora", RadioButton).disabled = reason is not None
        note = self.query_one("#quant-reason", Static)
        note.update(reason or "")
        note.display = reason is not None

    def _facts_changed(self, facts: Loaded) -> None:
        names = list(getattr(facts.value, "linear_module_names", []) or [])
        resolved = linear_layer_names(facts.value) if facts.value is not None else []
        self.query_one(TargetModulesPicker).set_available(names, resolved)
        self._show_target_errors(self.wizard.validation)
        self._show_trainable()

    @on(RadioSet.Changed, "#kind")
    def _kind_changed(self, event: RadioSet.Changed) -> None:
        event.stop()
        kind = (event.pressed.id or "").removeprefix("kind-")
        changes: dict[str, Any] = {"method.kind": kind}
        quantization = self.value("model.quantization")
        if kind == "qlora" and quantization == "none":
            changes["model.quantization"] = "4bit"
        elif kind == "full" and quantization != "none":
            changes["model.quantization"] = "none"
        if "model.quantization" in changes:
            row = self.query_one(f"#{row_id('model.quantization')}", FieldRow)
            row.set_value(changes["model.quantization"])
        self.post_message(SpecChanged(changes))

    @on(TargetModulesPicker.TargetsChanged)
    def _targets_changed(self, event: TargetModulesPicker.TargetsChanged) -> None:
        event.stop()
        self.post_message(SpecChanged({"method.lora.target_modules": event.value}))

    def validation_changed(self, validation: Validation) -> None:
        self.query_one("#lora").display = self.value("method.kind") != "full"
        self._show_target_errors(validation)
        self._show_trainable()
        self._show_serving()

    def _show_serving(self) -> None:
        """Where the adapter could not be served by vLLM as a LoRA, said before training."""
        spec = self.wizard.spec
        warning = vllm_lora_warning(spec) if spec is not None else None
        note = self.query_one("#serving", Static)
        note.update(warning or "")
        note.display = warning is not None

    def _show_target_errors(self, validation: Validation) -> None:
        """The spec's errors on the field, and names this model does not have (what preflight
        would refuse), shown before the launch."""
        errors = validation.errors_for("method.lora.target_modules")
        facts, spec = self.wizard.model_facts.value, self.wizard.spec
        if facts is not None and spec is not None:
            problem = target_problem(facts, spec.method.lora.target_modules)
            errors += [problem] if problem else []
        self.query_one("#targets-error", Static).update("\n".join(errors))

    def _show_trainable(self) -> None:
        label = self.query_one("#trainable", Static)
        facts, spec = self.wizard.model_facts, self.wizard.spec
        if facts.loading:
            label.update("Trainable parameters: reading the model…")
            return
        if facts.value is None or spec is None:
            why = facts.error or "fix the marked fields first"
            label.update(f"Trainable parameters: not available ({why})")
            return
        try:
            adapter, saved = adapter_params(facts.value, spec)
        except Exception as exc:
            label.update(f"Trainable parameters: not available ({exc})")
            return
        label.update(trainable_text(facts.value.num_params, adapter, saved, spec.method))
