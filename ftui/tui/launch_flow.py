"""Check and Launch, and the way to the monitor. Mixed into FtuiApp.

Launch: preflight -> fetch the model once (a hub model not in the cache yet, with progress;
never one download per rank) -> launch detached -> the monitor. Any step that fails stops
the chain with its reason; a preflight error on a field opens that field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import on, work
from textual.reactive import reactive
from textual.screen import ModalScreen

from ftui.core.model.hub import download_model
from ftui.core.spec import RunSpec, SpecError
from ftui.tui import messages as m
from ftui.tui.draft import named
from ftui.tui.workers import CoreWorkers, Loaded


class LaunchFlow(CoreWorkers):
    """`launch_state` is what the Review step shows: loading with a line, a report, a run dir
    or an error. `download` is (done, total) bytes while the model is being fetched."""

    launch_state: reactive[Loaded] = reactive(Loaded(), always_update=True)
    download: reactive[tuple[int, int] | None] = reactive(None, always_update=True)
    _launch_after_check = False

    # FtuiApp provides these and refuse(), refresh_runs(), open_field(), load_spec().
    spec: RunSpec | None
    validation: Any
    runs_root: Path

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
        self.launch_state = Loaded("Running preflight checks…", loading=True)
        self.preflight(self.spec)

    @on(m.PreflightFinished)
    def _preflight_finished(self, event: m.PreflightFinished) -> None:
        report = event.report
        if report is None:
            self.launch_state = Loaded(None, f"Preflight could not run: {event.error}")
            return
        if not report.ok:
            lines = [named(field, message) for field, message in report.errors]
            self.launch_state = Loaded(report, "Preflight refused the launch")
            self.refuse(lines, report.errors[0][0] if report.errors else None)
            return
        if not self._launch_after_check or self.spec is None:
            self.launch_state = Loaded(report)
            return
        self.launch_state = Loaded(report, loading=True)
        self.fetch_model(self.spec)

    @work(thread=True, exclusive=True, exit_on_error=False, group="launch")
    def fetch_model(self, spec: RunSpec) -> None:
        def progress(done: int, total: int) -> None:
            self.post_message(m.ModelDownloadProgressed(done, total))

        try:
            download_model(spec.model.name_or_path, spec.model.revision, progress=progress)
        except Exception as exc:
            self.post_message(m.ModelFetched(str(exc).strip() or type(exc).__name__))
            return
        self.post_message(m.ModelFetched(None))

    @on(m.ModelDownloadProgressed)
    def _download_progressed(self, event: m.ModelDownloadProgressed) -> None:
        self.download = (event.done, event.total)

    @on(m.ModelFetched)
    def _model_fetched(self, event: m.ModelFetched) -> None:
        self.download = None
        if event.error:
            self.launch_state = Loaded(None, f"Cannot fetch the model: {event.error}")
        elif self.spec is not None:
            self.launch(self.spec)

    @on(m.LaunchFailed)
    def _launch_failed(self, event: m.LaunchFailed) -> None:
        self.launch_state = Loaded(None, f"Launch failed: {event.error}")

    @on(m.RunLaunched)
    def _run_launched(self, event: m.RunLaunched) -> None:
        self.launch_state = Loaded(event.run_dir)
        self.refresh_runs()
        self._show_monitor(event.run_dir)

    # --- the monitor and the runs list (screens of their own module) -------------------------

    @on(m.RunChosen)
    def _run_chosen(self, event: m.RunChosen) -> None:
        self._show_monitor(event.run_dir)

    def _show_monitor(self, run_dir: Path) -> None:
        from ftui.tui.screens.monitor import MonitorScreen

        self.push_screen(MonitorScreen(run_dir))

    def action_show_runs(self) -> None:
        if isinstance(self.screen, ModalScreen) or type(self.screen).__name__ == "RunsScreen":
            return
        from ftui.tui.screens.runs import RunsScreen

        self.push_screen(RunsScreen(self.runs_root))

    def on_monitor_screen_edit_setting_requested(self, event: Any) -> None:
        """The monitor's "fix setting": edit that run's config, on the field to change."""
        from ftui.core.runs.rundir import RunPaths
        from ftui.core.spec import load_spec_file

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
