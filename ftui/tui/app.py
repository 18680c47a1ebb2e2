"""FtuiApp: holds the draft spec and what the workers loaded; screens show it and post changes.

    FtuiApp(spec, preset_name, nvml=fake, runs_root=path, step="training",
            field="train.learning_rate")

`open_step(step_id, field)` / `open_field(path)` show a step (and focus a field) at any time.

Each slow call is a thread worker here that calls one ftui.core function and posts the result;
it never touches a widget and never catches: a worker that raises lands in `_worker_failed`,
the one place a failure becomes the error on the state it was loading.

Launch: preflight -> fetch the model once (a hub model not in the cache yet, with progress;
never one download per rank) -> launch detached -> the monitor. Any step that fails stops
the chain with its reason; a preflight error on a field opens that field.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.worker import Worker, WorkerState

from ftui.core import hardware, locations
from ftui.core.check.preflight import preflight
from ftui.core.launch.spawn import launch
from ftui.core.model.facts import inspect_model
from ftui.core.model.hub import download_model, list_cached_models
from ftui.core.presets import describe, resolve_spec, summary_of
from ftui.core.runs.rundir import RunPaths
from ftui.core.runs.status import list_runs
from ftui.core.spec import RunSpec, SpecError, load_spec_file
from ftui.tui import messages as m
from ftui.tui.base_app import FtuiBaseApp
from ftui.tui.draft import SpecDraft, Validation, named
from ftui.tui.loaded import Loaded, reason
from ftui.tui.screens.dialogs.save_preset import SavePresetScreen
from ftui.tui.screens.wizard.step_screens import STEP_SCREENS
from ftui.tui.steps import step_for_field, step_ids

if TYPE_CHECKING:
    from ftui.core.hardware import HardwareReport
    from ftui.core.model.facts import ModelFacts
    from ftui.core.model.hub import CachedModel
    from ftui.core.runs.status import RunInfo
    from ftui.tui.screens.monitor import MonitorScreen

MODEL_KEYS = ("model.name_or_path", "model.revision", "model.trust_remote_code")
STALE_CHECK = "The spec changed since the last check: ctrl+t checks it again."


class FtuiApp(FtuiBaseApp):
    TITLE = "ftui"
    CSS_PATH = "styles/app.tcss"
    # Only what applies on every screen; each wizard step has its own keys (StepScreen).
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", priority=True)]

    validation: reactive[Validation] = reactive(Validation(None), always_update=True)
    hardware: reactive[Loaded[HardwareReport]] = reactive(Loaded(loading=True), always_update=True)
    cached_models: reactive[Loaded[list[CachedModel]]] = reactive(
        Loaded(loading=True), always_update=True
    )
    model_facts: reactive[Loaded[ModelFacts]] = reactive(Loaded(loading=True), always_update=True)
    runs: reactive[Loaded[list[RunInfo]]] = reactive(Loaded(loading=True), always_update=True)
    # What the Review step shows: loading with a line (str), a PreflightReport, the run dir
    # (Path), or an error; a preflight's state is keyed by the spec it checks (a report on
    # another spec is stale). `download` is (done, total) bytes while the model is fetched.
    launch_state: reactive[Loaded[Any]] = reactive(Loaded(), always_update=True)
    download: reactive[tuple[int, int] | None] = reactive(None, always_update=True)
    # The Data step's mapping problem on the rows it read (None: none, or not read yet).
    data_problem: reactive[str | None] = reactive(None)

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
        self._inspect_timer: Timer | None = None
        self._inspect_worker: Worker[None] | None = None  # the newest: only its failure counts
        self._launch_after_check = False

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
        screen = STEP_SCREENS[step_id](focus_field=field)
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
        self._drop_stale_check()
        if any(path in MODEL_KEYS for path in changes):
            self.request_model_facts(delay=0.4 if typing else 0)

    def load_spec(self, spec: RunSpec, preset_name: str | None) -> None:
        self.draft = SpecDraft(spec)
        self.preset_name = preset_name
        self.sub_title = preset_name or "new run"
        self.data_problem = None  # another spec's rows: unknown until the Data step reads them
        self.validation = self.draft.validate()
        self._drop_stale_check()
        self._default_gpus(self.hardware.value)
        self.request_model_facts()

    @on(m.PresetChosen)
    def _preset_chosen(self, event: m.PresetChosen) -> None:
        try:
            spec = resolve_spec(event.name) if event.name else RunSpec()
        except SpecError as exc:
            self.notify("\n".join(exc.problems), title="Cannot load preset", severity="error")
            return
        self.load_spec(spec, event.name)
        self.open_step("hardware")

    @on(m.DataMappingChecked)
    def _data_mapping_checked(self, event: m.DataMappingChecked) -> None:
        self.data_problem = event.problem

    # --- workers: one core call each, the result posted; a raise goes to _worker_failed -----

    @work(thread=True, exclusive=True, exit_on_error=False, group="hardware")
    def detect_hardware(self) -> None:
        self.post_message(m.HardwareDetected(hardware.detect_hardware(nvml=self.nvml)))

    @work(thread=True, exclusive=True, exit_on_error=False, group="cached-models")
    def list_cached_models(self) -> None:
        self.post_message(m.CachedModelsListed(list(list_cached_models())))

    @work(thread=True, exclusive=True, exit_on_error=False, group="inspect-model")
    def inspect_model(self, key: m.ModelKey) -> None:
        self.post_message(m.ModelInspected(key, inspect_model(*key)))

    @work(thread=True, exclusive=True, exit_on_error=False, group="runs")
    def list_runs(self, root: Path) -> None:
        self.post_message(m.RunsListed(list(list_runs(root))))

    @work(thread=True, exclusive=True, exit_on_error=False, group="preflight")
    def preflight(self, spec: RunSpec) -> None:
        self.post_message(m.PreflightFinished(preflight(spec), spec))

    @work(thread=True, exclusive=True, exit_on_error=False, group="fetch-model")
    def fetch_model(self, spec: RunSpec) -> None:
        def progress(done: int, total: int) -> None:
            self.post_message(m.ModelDownloadProgressed(done, total))

        path = download_model(spec.model.name_or_path, spec.model.revision, progress=progress)
        self.post_message(m.ModelFetched(path))

    @work(thread=True, exclusive=True, exit_on_error=False, group="launch")
    def launch(self, spec: RunSpec) -> None:
        self.post_message(m.RunLaunched(Path(launch(spec, detach=True))))

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        """The one failure handler: the reason a worker raised becomes the error of the state
        that worker was loading, shown as such (never a made-up value)."""
        if event.state != WorkerState.ERROR:
            return
        error = reason(event.worker.error)
        match event.worker.group:
            case "hardware":
                self.hardware = Loaded(error=error)
            case "cached-models":
                self.cached_models = Loaded(error=error)
            case "inspect-model" if event.worker is self._inspect_worker:  # else an older name
                self.model_facts = Loaded(error=error, key=self.model_facts.key)
            case "runs":
                self.runs = Loaded(error=error)
            case "preflight":
                self.launch_state = Loaded(error=f"Preflight could not run: {error}")
            case "fetch-model":
                self.download = None
                self.launch_state = Loaded(error=f"Cannot fetch the model: {error}")
            case "launch":
                self.launch_state = Loaded(error=f"Launch failed: {error}")

    # --- what the workers loaded ------------------------------------------------------------

    def request_model_facts(self, delay: float = 0) -> None:
        """Inspect the model once typing pauses; a result for an older name is dropped."""
        name, revision, trust = (self.draft.get(k) for k in MODEL_KEYS)
        key: m.ModelKey = (str(name or ""), revision, bool(trust))
        if self.model_facts.key == key and not self.model_facts.loading:
            return
        self.model_facts = Loaded(loading=True, key=key)
        self._inspect_worker = None  # a failure of an older request is not this one's
        if self._inspect_timer is not None:
            self._inspect_timer.stop()
        if delay > 0:
            self._inspect_timer = self.set_timer(delay, lambda: self._start_inspect(key))
        else:
            self._start_inspect(key)

    def _start_inspect(self, key: m.ModelKey) -> None:
        self._inspect_worker = self.inspect_model(key)

    @on(m.ModelInspected)
    def _model_inspected(self, event: m.ModelInspected) -> None:
        if event.key == self.model_facts.key:
            self.model_facts = Loaded(event.facts, key=event.key)

    @on(m.HardwareDetected)
    def _hardware_detected(self, event: m.HardwareDetected) -> None:
        self._default_gpus(event.report)  # before the screens see the report
        self.hardware = Loaded(event.report)

    def _default_gpus(self, report: HardwareReport | None) -> None:
        """Without a GPU choice in the spec, use the idle GPUs (when there are some)."""
        if report is None or not report.gpus or self.draft.get("launch.gpus") is not None:
            return
        idle = hardware.idle_gpus(report)
        if idle:
            self.apply_changes({"launch.gpus": idle, "launch.nproc_per_node": len(idle)})

    @on(m.CachedModelsListed)
    def _cached_models_listed(self, event: m.CachedModelsListed) -> None:
        self.cached_models = Loaded(event.models)

    def refresh_runs(self) -> None:
        self.runs = Loaded(loading=True)
        self.list_runs(self.runs_root)

    @on(m.RunsListed)
    def _runs_listed(self, event: m.RunsListed) -> None:
        self.runs = Loaded(event.runs)

    # --- check and launch -------------------------------------------------------------------

    def action_check(self) -> None:
        """Preflight only: what a launch would refuse or warn about."""
        self._start_preflight(launch=False)

    def action_launch(self) -> None:
        self._start_preflight(launch=True)

    def _start_preflight(self, launch: bool) -> None:
        if self.spec is None:
            self.refuse(self.validation.all_errors(), self.validation.first_error_field())
            return
        if self.launch_state.loading:
            return
        self._launch_after_check = launch
        self.launch_state = Loaded("Running preflight checks…", loading=True, key=self.spec)
        self.preflight(self.spec)

    def _drop_stale_check(self) -> None:
        """A preflight result (or one on its way) for another spec than the draft's is not
        shown as this spec's: the Review says it is stale, and a pending launch is dropped."""
        key = self.launch_state.key
        if key is not None and key != self.spec:
            self._launch_after_check = False
            self.launch_state = Loaded(STALE_CHECK)

    @on(m.PreflightFinished)
    def _preflight_finished(self, event: m.PreflightFinished) -> None:
        report = event.report
        if event.spec != self.spec:
            return  # checked another spec: the stale line is already shown
        if not report.ok:
            lines = [named(field, message) for field, message in report.errors]
            self.launch_state = Loaded(report, "Preflight refused the launch", key=event.spec)
            self.refuse(lines, report.errors[0][0] if report.errors else None)
            return
        if not self._launch_after_check or self.spec is None:
            self.launch_state = Loaded(report, key=event.spec)
            return
        self.launch_state = Loaded(report, loading=True, key=event.spec)
        self.fetch_model(self.spec)

    @on(m.ModelDownloadProgressed)
    def _download_progressed(self, event: m.ModelDownloadProgressed) -> None:
        self.download = (event.done, event.total)

    @on(m.ModelFetched)
    def _model_fetched(self, event: m.ModelFetched) -> None:
        self.download = None
        if self.spec is not None and self.launch_state.key == self.spec:  # else it changed
            self.launch(self.spec)

    @on(m.RunLaunched)
    def _run_launched(self, event: m.RunLaunched) -> None:
        self.launch_state = Loaded(event.run_dir)
        self.refresh_runs()
        self._show_monitor(event.run_dir)

    # --- the monitor, the runs list and presets ---------------------------------------------

    @on(m.RunChosen)
    def _run_chosen(self, event: m.RunChosen) -> None:
        self._show_monitor(event.run_dir)

    def _show_monitor(self, run_dir: Path) -> None:
        # Imported when first shown: its charts (textual_plotext) cost ~80 ms at start-up.
        from ftui.tui.screens.monitor import MonitorScreen

        self.push_screen(MonitorScreen(run_dir))

    def action_show_runs(self) -> None:
        from ftui.tui.screens.runs import RunsScreen  # imports the monitor: see _show_monitor

        if isinstance(self.screen, (ModalScreen, RunsScreen)):
            return
        self.push_screen(RunsScreen(self.runs_root))

    def on_monitor_screen_edit_setting_requested(
        self, event: MonitorScreen.EditSettingRequested
    ) -> None:
        """The monitor's "fix setting": edit that run's config, on the field to change."""
        try:
            spec = load_spec_file(RunPaths(Path(event.run_dir)).config)
        except SpecError as exc:
            self.notify(
                "\n".join(exc.problems), title="Cannot read the run's config", severity="error"
            )
            return
        self.load_spec(spec, None)
        self.sub_title = f"settings of {Path(event.run_dir).name}"
        self.open_field(event.setting)

    def action_save_preset(self) -> None:
        if isinstance(self.screen, ModalScreen):
            return
        if self.spec is None:
            self.refuse(self.validation.all_errors(), self.validation.first_error_field())
            return
        # a preset opened by path (ftui --preset configs/x.yaml) is offered as "x"
        name = Path(self.preset_name).stem if self.preset_name else self.spec.name
        if (locations.builtin_presets_dir() / f"{name}.yaml").exists():
            name = f"{name}-mine"  # built-in presets are read-only
        description = summary_of(self.preset_name) or describe(self.spec.model_dump(mode="json"))
        self.push_screen(SavePresetScreen(self.spec, name, description))

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
