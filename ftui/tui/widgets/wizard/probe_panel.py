"""The Training step's measured probe: a few real steps at max_seq_len on this machine
(ftui.core.check.probe), its progress while it runs, then the measured peak memory and tokens/s with
a batch size, accumulation and ETA the user can apply with one key.

The measurement is kept while only the batch settings change (the advice is recomputed from
the measured bytes per row); a change to the model, data, method or precision marks it stale.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Static

if TYPE_CHECKING:
    from ftui.core.check.probe import ProbeAdvice, ProbeResult

MEASURE = "Measure with a probe (ctrl+t)"


def probe_key(spec: Any) -> str:
    """What the measurement depends on; batch size, accumulation and epochs are not part of it."""
    parts = {
        "model": spec.model.model_dump(mode="json"),
        "method": spec.method.model_dump(mode="json"),
        "data": spec.data.model_dump(mode="json"),
        "template": spec.template.model_dump(mode="json"),
        "gc": spec.train.gradient_checkpointing,
        "optimizer": spec.train.optimizer,
        "gpus": spec.launch.gpus,
    }
    return json.dumps(parts, sort_keys=True, default=str)


def eta_text(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    return f"{m // 60}:{m % 60:02d}:{s:02d}"


class ProbePanel(Vertical):
    """Owns the probe worker. The screen calls `refresh_advice(spec, free, world)` whenever the
    spec changes and handles `ProbePanel.BatchChosen`."""

    @dataclass
    class BatchChosen(Message):
        """The user applies the measured suggestion: the screen sets these two fields."""

        batch: int
        accumulation: int

    @dataclass
    class _StageReached(Message):
        text: str

    @dataclass
    class _ProbeFinished(Message):
        """The measurement for the settings `key` names, or why there is none."""

        key: str
        result: ProbeResult | None = None
        error: str | None = None

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.result: ProbeResult | None = None
        self.advice: ProbeAdvice | None = None
        self._key: str | None = None
        self._cancel: threading.Event | None = None
        self._spec_context: tuple[Any, int | None, int] = (None, None, 1)

    def compose(self) -> ComposeResult:
        with Horizontal(id="probe-actions"):
            yield Button(MEASURE, id="probe-run", compact=True)
            yield Button("Apply", id="probe-apply", compact=True)
        yield Static(
            "A few real training steps at data.max_seq_len on this machine: the measured peak "
            "memory and tokens/s, then a batch size, accumulation and ETA.",
            id="probe-status",
            classes="note",
        )

    def on_mount(self) -> None:
        self.query_one("#probe-apply", Button).display = False

    def on_unmount(self) -> None:
        self.cancel()  # a probe never outlives its step (or the app)

    @property
    def running(self) -> bool:
        return self._cancel is not None

    # the screen's side -------------------------------------------------------------------------

    def refresh_advice(self, spec: Any, free: int | None, world: int) -> None:
        """Recompute the advice for the current spec from the kept measurement."""
        self._spec_context = (spec, free, world)
        if self.running or self.result is None:
            return
        if spec is None or probe_key(spec) != self._key:
            self.advice = None
            self._show(
                Text(
                    "The probe measured other settings (model, data, method or precision "
                    "changed since): measure again.",
                    style="dim",
                )
            )
            return
        if free is None:
            self.advice = None
            self._show(Text("Measured, but this machine's free memory is unknown.", style="dim"))
            return
        from ftui.core.check.probe import advise

        self.advice = advise(spec, self.result, free, world)
        text = Text(self.advice.message)
        text.append(
            f"\nTraining time at the measured speed, with the suggestion: "
            f"{eta_text(self.advice.eta_s)} ({world} process{'es' if world > 1 else ''})",
            style="bold",
        )
        current = (spec.train.per_device_batch_size, spec.train.gradient_accumulation_steps)
        suggested = (self.advice.batch, self.advice.accumulation)
        self.query_one(
            "#probe-apply", Button
        ).label = f"Apply batch {suggested[0]} × accumulation {suggested[1]} (ctrl+y)"
        self._show(text, apply=self.advice.fits and current != suggested)

    def start(self) -> None:
        spec = self._spec_context[0]
        if self.running:
            assert self._cancel is not None
            self._cancel.set()
            self._show(Text("Cancelling the probe…", style="yellow"))
            return
        if spec is None:
            self._show(Text("Fix the marked fields first, then measure.", style="yellow"))
            return
        self._cancel = threading.Event()
        self.query_one("#probe-run", Button).label = "Cancel the probe (ctrl+t)"
        self._show(Text("Probe: starting…", style="yellow"))
        self.scroll_visible(animate=False)  # its progress is what the user waits for
        self._probe(spec, probe_key(spec), self._cancel)

    def apply(self) -> None:
        if self.advice is not None and self.advice.fits:
            self.post_message(self.BatchChosen(self.advice.batch, self.advice.accumulation))

    def cancel(self) -> None:
        if self._cancel is not None:
            self._cancel.set()

    # internals ---------------------------------------------------------------------------------

    def _show(self, text: Text, apply: bool = False) -> None:
        status = self.query_one("#probe-status", Static)
        status.remove_class("note")  # the dim introduction gives way to what happened
        status.update(text)
        self.query_one("#probe-apply", Button).display = apply

    @work(thread=True, exclusive=True, exit_on_error=False, group="probe")
    def _probe(self, spec: Any, key: str, cancel: threading.Event) -> None:
        from ftui.core.check.probe import ProbeCancelled, run_probe

        def stage(text: str) -> None:
            self.post_message(self._StageReached(text))

        try:
            result = run_probe(spec, steps=3, on_stage=stage, cancel=cancel)
        except ProbeCancelled:
            self.post_message(self._ProbeFinished(key, error="cancelled"))
        except Exception as exc:
            self.post_message(self._ProbeFinished(key, error=str(exc) or type(exc).__name__))
        else:
            self.post_message(self._ProbeFinished(key, result=result))

    @on(_StageReached)
    def _stage(self, event: _StageReached) -> None:
        if self.running:
            self._show(Text(f"Probe: {event.text}…", style="yellow"))

    @on(_ProbeFinished)
    def _done(self, event: _ProbeFinished) -> None:
        self._cancel = None
        self.query_one("#probe-run", Button).label = MEASURE
        if event.error == "cancelled":
            self._show(Text("The probe was cancelled.", style="dim"))
            return
        if event.error is not None:
            self.result = None
            self._show(Text(event.error, style="red"))
            return
        self.result, self._key = event.result, event.key
        self.refresh_advice(*self._spec_context)
        self.scroll_visible(animate=False)

    @on(Button.Pressed, "#probe-run")
    def _run_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.start()

    @on(Button.Pressed, "#probe-apply")
    def _apply_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.apply()
