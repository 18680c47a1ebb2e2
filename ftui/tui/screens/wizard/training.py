"""Training: optimisation settings, the effective batch, and whether it fits in memory."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from ftui.core.check.memory import estimate_memory, fit_on
from ftui.core.hardware import bf16_trains_fast
from ftui.tui.draft import Validation
from ftui.tui.loaded import Loaded
from ftui.tui.messages import SpecChanged
from ftui.tui.screens.wizard.base import StepScreen
from ftui.tui.widgets.wizard.memory_panel import MemoryPanel, verdict_line
from ftui.tui.widgets.wizard.probe_panel import ProbePanel
from ftui.tui.widgets.wizard.spec_form import FieldRow, SpecForm

FIELDS = [
    "train.epochs",
    "train.max_steps",
    "train.per_device_batch_size",
    "train.gradient_accumulation_steps",
    "train.learning_rate",
    "train.lr_scheduler",
    "train.warmup_steps",
    "train.optimizer",
    "train.weight_decay",
    "model.dtype",
    "train.gradient_checkpointing",
    "train.eval_steps",
    "train.save_steps",
    "train.save_total_limit",
    "train.logging_steps",
    "train.seed",
    "train.report_to",
]


def world_size(spec: Any, hardware: Loaded) -> int:
    from ftui.core.launch.torchrun import resolve_nproc

    report = hardware.value
    gpus = len(report.gpus) if report is not None else 0
    return resolve_nproc(spec, cuda_count=gpus) * spec.launch.nnodes


class TrainingScreen(StepScreen):
    STEP_ID = "training"
    BINDINGS = [
        Binding("ctrl+t", "probe", "Measure (probe)", priority=True),
        Binding("ctrl+y", "apply_probe", "Apply probe's batch", show=False, priority=True),
    ]

    def compose_body(self) -> ComposeResult:
        yield Static("", id="effective-batch", classes="summary")
        yield Static("", id="memory-verdict", classes="summary")
        yield Static("", id="precision-note", classes="notice")
        yield SpecForm(FIELDS, self.values(FIELDS), choices={"model.dtype": self._dtypes()})
        yield Static("Memory per device, estimated", classes="section-title")
        yield MemoryPanel(id="memory")
        yield Static("Memory and speed, measured", classes="section-title")
        yield ProbePanel(id="probe")

    def on_mount(self) -> None:
        self.watch(self.app, "hardware", lambda _: self._update())
        self.watch(self.app, "model_facts", lambda _: self._update())

    def validation_changed(self, validation: Validation) -> None:
        self._update()

    def action_probe(self) -> None:
        self.query_one(ProbePanel).start()

    def action_apply_probe(self) -> None:
        self.query_one(ProbePanel).apply()

    @on(ProbePanel.BatchChosen)
    def _apply(self, event: ProbePanel.BatchChosen) -> None:
        changes = {
            "train.per_device_batch_size": event.batch,
            "train.gradient_accumulation_steps": event.accumulation,
        }
        for row in self.query(FieldRow):
            if row.path in changes:
                row.set_value(changes[row.path])
        self.post_message(SpecChanged(changes))

    def _update(self) -> None:
        spec, hardware = self.wizard.spec, self.wizard.hardware
        batch = self.query_one("#effective-batch", Static)
        verdict = self.query_one("#memory-verdict", Static)
        memory = self.query_one(MemoryPanel)
        probe = self.query_one(ProbePanel)
        if spec is None:
            batch.update("Effective batch: fix the marked fields first")
            verdict.update("")
            verdict.display = False
            memory.show(None, "fix the marked fields first")
            probe.refresh_advice(None, None, 1)
            return
        world = world_size(spec, hardware)
        per, accum = spec.train.per_device_batch_size, spec.train.gradient_accumulation_steps
        batch.update(
            Text.assemble(
                f"Effective batch = {per} per device × {accum} accumulation × {world} "
                "process(es) = ",
                (str(spec.train.effective_batch(world)), "bold"),
                " rows per optimizer step",
            )
        )
        self._precision_note(spec)
        facts = self.wizard.model_facts
        try:
            if facts.value is None:
                raise ValueError(facts.error or "reading the model…")
            if hardware.value is None:  # the estimate without a verdict
                estimate = estimate_memory(spec, facts.value, world)
                verdict.update(verdict_line(estimate, None, "", None))
                verdict.display = True
                memory.show(estimate)
                probe.refresh_advice(spec, None, world)
                return
            fit = fit_on(spec, facts.value, hardware.value)
        except Exception as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            verdict.update(Text(f"Memory per device: not available ({reason})", style="dim"))
            verdict.display = True
            memory.show(None, reason)
            probe.refresh_advice(spec, None, world)
            return
        verdict.update(verdict_line(fit.estimate, fit.free_bytes, fit.where, fit.suggestion))
        verdict.display = True
        memory.show(fit.estimate)
        probe.refresh_advice(spec, fit.free_bytes, world)

    def _dtypes(self) -> list[tuple[str, str]]:
        """bf16 is offered only where the hardware supports it (or when already chosen)."""
        report = self.wizard.hardware.value
        current = self.value("model.dtype")
        bf16 = report is None or bf16_trains_fast(report) or current == "bf16"
        return [(d, d) for d in ("auto", "bf16", "fp16", "fp32") if d != "bf16" or bf16]

    def _precision_note(self, spec: Any) -> None:
        """bf16 is only offered where it works: say so when the spec asks for it elsewhere."""
        report = self.wizard.hardware.value
        note = self.query_one("#precision-note", Static)
        unsupported = report is not None and not bf16_trains_fast(report)
        if spec.model.dtype == "bf16" and unsupported and report.backend == "cpu":
            note.update(
                "model.dtype bf16: this CPU has no native bf16 (emulated, slower than fp32)"
            )
        elif spec.model.dtype == "bf16" and unsupported:
            note.update("model.dtype bf16: not supported on this machine; use auto or fp16")
        else:
            note.update("")
        note.display = bool(spec.model.dtype == "bf16" and unsupported)
