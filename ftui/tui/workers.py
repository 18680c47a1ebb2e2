"""Thread workers: each calls one ftui.core function and posts the result as a message.

They never touch widgets; the app's handlers own every state change. A core call that fails
becomes an `error` string on the message, shown as such: never a made-up value.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import work
from textual.app import App

from ftui.core import hardware
from ftui.core.check.preflight import preflight
from ftui.core.launch.spawn import launch
from ftui.core.model.facts import inspect_model
from ftui.core.model.hub import list_cached_models
from ftui.core.runs.status import list_runs
from ftui.core.spec import RunSpec
from ftui.tui import messages as m
from ftui.tui.loaded import reason as _reason


class CoreWorkers(App[int]):
    """Mixed into FtuiApp: the slow calls, each in its own exclusive worker group."""

    nvml: Any = None

    @work(thread=True, exclusive=True, exit_on_error=False, group="hardware")
    def detect_hardware(self) -> None:
        try:
            report = hardware.detect_hardware(nvml=self.nvml)
        except Exception as exc:
            self.post_message(m.HardwareDetected(None, _reason(exc)))
            return
        self.post_message(m.HardwareDetected(report))

    @work(thread=True, exclusive=True, exit_on_error=False, group="cached-models")
    def list_cached_models(self) -> None:
        try:
            cached = list(list_cached_models())
        except Exception as exc:
            self.post_message(m.CachedModelsListed([], _reason(exc)))
            return
        self.post_message(m.CachedModelsListed(cached))

    @work(thread=True, exclusive=True, exit_on_error=False, group="inspect-model")
    def inspect_model(self, name: str, revision: str | None, trust_remote_code: bool) -> None:
        key = (name, revision, trust_remote_code)
        try:
            facts = inspect_model(name, revision, trust_remote_code)
        except Exception as exc:
            self.post_message(m.ModelInspected(key, None, _reason(exc)))
            return
        self.post_message(m.ModelInspected(key, facts))

    @work(thread=True, exclusive=True, exit_on_error=False, group="runs")
    def list_runs(self, root: Path) -> None:
        try:
            found = list(list_runs(root))
        except Exception as exc:
            self.post_message(m.RunsListed([], _reason(exc)))
            return
        self.post_message(m.RunsListed(found))

    @work(thread=True, exclusive=True, exit_on_error=False, group="launch")
    def preflight(self, spec: RunSpec) -> None:
        try:
            report = preflight(spec)
        except Exception as exc:
            self.post_message(m.PreflightFinished(None, _reason(exc)))
            return
        self.post_message(m.PreflightFinished(report))

    @work(thread=True, exclusive=True, exit_on_error=False, group="launch")
    def launch(self, spec: RunSpec) -> None:
        try:
            run_dir = launch(spec, detach=True)
        except Exception as exc:
            self.post_message(m.LaunchFailed(_reason(exc)))
            return
        self.post_message(m.RunLaunched(Path(run_dir)))
