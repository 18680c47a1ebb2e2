"""Template: how rows become text, and exactly which tokens are trained.

The template the model suggests (its own chat template, else an instruction template) with a
button to take it; mismatches warned about (chatml on a Llama-3 tokenizer); a custom template
checked as you type; and the mask lens over real rows, recomputed in a worker whenever the
template, the mapping, max_seq_len or the model change.
"""

from __future__ import annotations

import json
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Button, Label, Static, TextArea

from ftui.core.spec import TemplateSection
from ftui.tui.draft import Validation
from ftui.tui.messages import SpecChanged
from ftui.tui.screens.wizard.base import StepScreen
from ftui.tui.widgets.wizard.mask_lens import MaskLens
from ftui.tui.widgets.wizard.spec_form import FieldRow, SpecForm

if TYPE_CHECKING:
    from ftui.core.data.lens_report import LensReport
    from ftui.core.model.facts import ModelFacts
    from ftui.tui.loaded import Loaded

FIELDS = ["template.name", "template.system_prompt", "template.train_on_input"]
LENS_ROWS = 20
DEFAULT_TEMPLATE = TemplateSection().name
# Drafts whose template already followed the model once: a fresh spec (no preset) takes the
# model's suggested template the first time this step shows it, and never again after, so a
# choice the user makes here is kept. Keyed weakly by the app's draft object.
_FOLLOWED: weakref.WeakSet[Any] = weakref.WeakSet()


class TemplateStepScreen(StepScreen):
    STEP_ID = "template"
    CSS_PATH = "../../styles/data.tcss"
    INTRO = "How each row becomes text. Green tokens are trained; grey ones are the prompt."

    @dataclass
    class LensComputed(Message):
        """A worker rendered the rows: the core `LensReport`, or the error."""

        key: str
        report: LensReport | None
        error: str | None = None

    def __init__(self, focus_field: str | None = None) -> None:
        super().__init__(focus_field)
        self.report: LensReport | None = None
        self._key: str | None = None
        self._timer: Any = None

    def compose_body(self) -> ComposeResult:
        yield SpecForm(FIELDS, self.values(FIELDS))
        with Horizontal(id="custom-line", classes="field-line"):
            yield Label("custom", classes="field-label")
            yield TextArea(self.value("template.custom") or "", id="custom-template", compact=True)
        yield Static("", id="custom-hint", classes="note")
        yield Static("", id="template-problems")
        with Horizontal(id="template-actions"):
            yield Static("", id="template-suggestion")
            yield Button("Use it", id="use-suggested", compact=True)
        yield Static("", id="template-warnings")
        yield Static("Mask lens", classes="section-title")
        yield MaskLens(id="lens")

    def on_mount(self) -> None:
        super().on_mount()
        self.watch(self.app, "model_facts", self._model_facts_changed)
        self.query_one("#use-suggested").display = False
        self._show_custom_problems()
        self.lens_now()

    # --- the lens ---------------------------------------------------------------------------

    def lens_key(self) -> str | None:
        spec = self.wizard.spec
        if spec is None:
            return None
        parts = [spec.model.model_dump(mode="json"), spec.data.model_dump(mode="json")]
        parts.append(spec.template.model_dump(mode="json"))
        return json.dumps(parts, sort_keys=True)

    def lens_now(self) -> None:
        key = self.lens_key()
        if key is None or key == self._key:
            return
        self._key = key
        self.query_one(MaskLens).loading_lens = True
        self.compute_lens(key, self.wizard.spec)

    @work(thread=True, exclusive=True, exit_on_error=False, group="mask-lens")
    def compute_lens(self, key: str, spec: Any) -> None:
        from ftui.core.data.lens_report import lens_report

        try:
            report = lens_report(spec, rows=LENS_ROWS)
        except Exception as exc:  # a broken tokenizer or template: one readable line
            self.post_message(self.LensComputed(key, None, f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(self.LensComputed(key, report))

    @on(LensComputed)
    def _lens_computed(self, event: LensComputed) -> None:
        if event.key != self._key:
            return
        lens = self.query_one(MaskLens)
        report = self.report = event.report
        if report is None or not report.ok:
            lens.fail(event.error or "\n".join(report.errors))
        else:
            lens.show(report.lens)
        self._follow_model()
        self._show_advice()
        self._show_custom_problems()  # the detected mapping may be new

    def _follow_model(self) -> None:
        """A fresh spec still on the default template takes the one the model suggests."""
        draft = self.wizard.draft
        name = self.report.suggested[0] if self.report is not None else ""
        if draft in _FOLLOWED or not name or self.wizard.preset_name is not None:
            return
        _FOLLOWED.add(draft)
        if self.value("template.name") == DEFAULT_TEMPLATE and name != DEFAULT_TEMPLATE:
            self._set_template(name)
            self.notify(f"Template {name}: {self.report.suggested[1]}", title="Follows the model")

    def _show_advice(self) -> None:
        report = self.report
        name, why = report.suggested if report is not None else ("", "")
        current = self.value("template.name")
        suggestion = self.query_one("#template-suggestion", Static)
        suggestion.update(f"This model suggests {name}: {why}" if name else "")
        button = self.query_one("#use-suggested", Button)
        button.label = f"Use {name}"
        button.display = bool(name) and name != current
        warnings = report.warnings if report is not None else []
        self.query_one("#template-warnings", Static).update("\n".join(f"⚠ {w}" for w in warnings))

    # --- editing ----------------------------------------------------------------------------

    def _show_custom_problems(self) -> None:
        from ftui.core.prompt.check import check_custom

        is_custom = self.value("template.name") == "custom"
        self.query_one("#custom-line").display = is_custom
        self.query_one("#custom-hint").display = is_custom
        problems: list[str] = []
        if is_custom:
            roles = self.value("data.columns") or {}
            if not roles and self.report is not None and self.report.detection is not None:
                roles = self.report.detection.columns
            problems = check_custom(self.value("template.custom") or "", set(roles) or None)
            mapped = set(roles) | ({"prompt", "response"} if "messages" in roles else set())
            usable = [p for p in ("prompt", "input", "system") if p in mapped or p == "system"]
            self.query_one("#custom-hint", Static).update(
                "placeholders: "
                + " ".join("{" + p + "}" for p in usable)
                + "  and {response} once, at the end"
            )
        box = self.query_one("#template-problems", Static)
        box.update("\n".join(problems))
        box.display = bool(problems)

    @on(TextArea.Changed, "#custom-template")
    def _custom_typed(self, event: TextArea.Changed) -> None:
        event.stop()
        text = event.text_area.text
        if text != (self.value("template.custom") or ""):
            self.post_message(SpecChanged({"template.custom": text or None}))

    @on(Button.Pressed, "#use-suggested")
    def _use_suggested(self, event: Button.Pressed) -> None:
        event.stop()
        if self.report is not None and self.report.suggested[0]:
            self._set_template(self.report.suggested[0])

    def _set_template(self, name: str) -> None:
        changes: dict[str, Any] = {"template.name": name}
        if name != "custom":
            changes["template.custom"] = None
        self.post_message(SpecChanged(changes))
        for row in self.query(FieldRow):
            if row.path == "template.name":
                row.set_value(name)

    def _model_facts_changed(self, facts: Loaded[ModelFacts]) -> None:
        value = facts.value
        self.query_one(MaskLens).set_context_length(value.context_length if value else None)

    @on(MaskLens.MaxLenSuggested)
    def _max_len(self, event: MaskLens.MaxLenSuggested) -> None:
        event.stop()
        self.post_message(SpecChanged({"data.max_seq_len": max(8, event.max_seq_len)}))

    def validation_changed(self, validation: Validation) -> None:
        self._show_custom_problems()
        if self.report is not None:
            self._show_advice()
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(0.3, self.lens_now)  # once typing pauses
