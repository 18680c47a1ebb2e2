"""FtuiApp: holds the draft spec and what the workers loaded; screens show it and post changes.

    FtuiApp(spec, preset_name, nvml=fake, runs_root=path, step="training",
            field="train.learning_rate")

`open_step(step_id, field)` / `open_field(path)` show a step (and focus a field) at any time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import on
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import ModalScreen

from ftui.core import locations
from ftui.core.spec import RunSpec, SpecError
from ftui.tui import messages as m
from ftui.tui.draft import SpecDraft, Validation
from ftui.tui.launch_flow import LaunchFlow
from ftui.tui.loaded import Loaded
from ftui.tui.steps import screen_class, step_for_field, step_ids

MODEL_KEYS = ("model.name_or_path", "model.revision", "model.trust_remote_code")


class FtuiApp(LaunchFlow):
    TITLE = "ftui"
    CSS_PATH = "styles/app.tcss"
    COMMAND_PALETTE_BINDING = "ctrl+backslash"
    BINDINGS = [
        Binding("ctrl+n", "next_step", "Next step", priority=True),
        Binding("ctrl+p", "previous_step", "Previous", priority=True),
        Binding("ctrl+s", "save_preset", "Save preset", priority=True),
        Binding("ctrl+r", "show_runs", "Runs", priority=True),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    validation: reactive[Validation] = reactive(Validation(None), always_update=True)
    hardware: reactive[Loaded] = reactive(Loaded(loading=True), always_update=True)
    cached_models: reactive[Loaded] = reactive(Loaded(loading=True), always_update=True)
    model_facts: reactive[Loaded] = reactive(Loaded(loading=True), always_update=True)
    runs: reactive[Loaded] = reactive(Loaded(loading=True), always_update=True)

    def __init__(
        self,
        spec: RunSpec | None = None,
        preset_name: str | None = None,
        *,
        nvml: Any = None,
        runs_root: Path | None = None,
        step: str = "start",
        field: str | None = None,
    ) -> None:
        super().__init__()
        self.nvml = nvml
        self._runs_root = runs_root
        self.preset_name = preset_name
        self.draft = SpecDraft(spec)
        self.step_id = step
        self._first = (step, field)
        self.set_reactive(FtuiApp.validation, self.draft.validate())
        self._inspect_timer: Any = None

    @property
    def runs_root(self) -> Path:
        """Where runs are listed: the given root, else the spec's output.root."""
        return self._runs_root or Path(self.draft.get("output.root") or "runs")

    @property
    def spec(self) -> RunSpec | None:
        """The valid spec, or None while some field is invalid."""
        return self.validation.spec

    def on_mount(self) -> None:
        self.sub_title = self.preset_name or "new run"
        self.detect_hardware()
        self.list_cached_models()
        self.refresh_runs()
        self.request_model_facts()
        step, field = self._first
        self.open_step(step, field)

    # --- navigation -------------------------------------------------------------------------

    def open_step(self, step_id: str, field: str | None = None) -> None:
        screen = screen_class(step_id)(focus_field=field)
        self.step_id = step_id
        while len(self.screen_stack) > 2:  # a monitor, runs list or dialog over the step
            self.pop_screen()
        if len(self.screen_stack) <= 1:
            self.push_screen(screen)
        else:
            self.switch_screen(screen)

    def open_field(self, path: str) -> None:
        """Show the step that edits `path` (e.g. "train.learning_rate") with it focused."""
        self.open_step(step_for_field(path), path)

    def _move(self, offset: int) -> None:
        if isinstance(self.screen, ModalScreen):
            return
        ids = step_ids()
        index = min(max(ids.index(self.step_id) + offset, 0), len(ids) - 1)
        if ids[index] != self.step_id:
            self.open_step(ids[index])

    def action_next_step(self) -> None:
        self._move(1)

    def action_previous_step(self) -> None:
        self._move(-1)

    @on(m.StepRequested)
    def _step_requested(self, event: m.StepRequested) -> None:
        self.open_step(event.step_id, event.field)

    # --- editing ----------------------------------------------------------------------------

    @on(m.SpecChanged)
    def _spec_changed(self, event: m.SpecChanged) -> None:
        self.apply_changes(event.changes, typing=event.typing)

    def apply_changes(self, changes: dict[str, Any], typing: bool = False) -> None:
        for path, value in changes.items():
            self.draft.set(path, value)
        self.validation = self.draft.validate()
        if any(path in MODEL_KEYS for path in changes):
            self.request_model_facts(delay=0.4 if typing else 0)

    def load_spec(self, spec: RunSpec, preset_name: str | None) -> None:
        self.draft = SpecDraft(spec)
        self.preset_name = preset_name
        self.sub_title = preset_name or "new run"
        self.validation = self.draft.validate()
        self._default_gpus(self.hardware.value)
        self.request_model_facts()

    @on(m.PresetChosen)
    def _preset_chosen(self, event: m.PresetChosen) -> None:
        from ftui.core.presets import resolve_spec

        try:
            spec = resolve_spec(event.name) if event.name else RunSpec()
        except SpecError as exc:
            self.notify("\n".join(exc.problems), title="Cannot load preset", severity="error")
            return
        self.load_spec(spec, event.name)
        self.open_step("hardware")

    # --- slow facts -------------------------------------------------------------------------

    def request_model_facts(self, delay: float = 0) -> None:
        """Inspect the model once typing pauses; a result for an older name is dropped."""
        key = tuple(self.draft.get(k) for k in MODEL_KEYS)
        key = (str(key[0] or ""), key[1], bool(key[2]))
        if self.model_facts.key == key and not self.model_facts.loading:
            return
        self.model_facts = Loaded(loading=True, key=key)
        if self._inspect_timer is not None:
            self._inspect_timer.stop()
        if delay > 0:
            self._inspect_timer = self.set_timer(delay, lambda: self.inspect_model(*key))
        else:
            self.inspect_model(*key)

    @on(m.ModelInspected)
    def _model_inspected(self, event: m.ModelInspected) -> None:
        if event.key == self.model_facts.key:
            self.model_facts = Loaded(event.facts, event.error, key=event.key)

    @on(m.HardwareDetected)
    def _hardware_detected(self, event: m.HardwareDetected) -> None:
        self._default_gpus(event.report)  # before the screens see the report
        self.hardware = Loaded(event.report, event.error)

    def _default_gpus(self, report: Any) -> None:
        """Without a GPU choice in the spec, use the idle GPUs (when there are some)."""
        if report is None or not report.gpus or self.draft.get("launch.gpus") is not None:
            return
        from ftui.core.hardware import idle_gpus

        idle = idle_gpus(report)
        if idle:
            self.apply_changes({"launch.gpus": idle, "launch.nproc_per_node": len(idle)})

    @on(m.CachedModelsListed)
    def _cached_models_listed(self, event: m.CachedModelsListed) -> None:
        self.cached_models = Loaded(event.models, event.error)

    def refresh_runs(self) -> None:
        self.runs = Loaded(loading=True)
        self.list_runs(self.runs_root)

    @on(m.RunsListed)
    def _runs_listed(self, event: m.RunsListed) -> None:
        self.runs = Loaded(event.runs, event.error)

    # --- presets and launch -----------------------------------------------------------------

    def action_save_preset(self) -> None:
        if isinstance(self.screen, ModalScreen):
            return
        if self.spec is None:
            self.refuse(self.validation.all_errors(), self.validation.first_error_field())
            return
        from ftui.tui.screens.dialogs.save_preset import SavePresetScreen

        # a preset opened by path (ftui --preset configs/x.yaml) is offered as "x"
        name = Path(self.preset_name).stem if self.preset_name else self.spec.name
        if (locations.builtin_presets_dir() / f"{name}.yaml").exists():
            name = f"{name}-mine"  # built-in presets are read-only
        self.push_screen(SavePresetScreen(self.spec, name))

    @on(m.PresetSaved)
    def _preset_saved(self, event: m.PresetSaved) -> None:
        self.preset_name = event.name
        self.sub_title = event.name
        self.notify(f"Saved preset {event.name} to {event.path}")

    def refuse(self, lines: list[str], field: str | None) -> None:
        """Say why not, and open the field to fix when it is one."""
        self.notify("\n".join(lines[:4]) or "invalid spec", title="Not yet", severity="error")
        if field and field not in ("spec", "") and field.split(".")[0] in self.draft.data:
            self.open_field(field)
