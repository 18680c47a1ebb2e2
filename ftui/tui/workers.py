"""Thread workers: each calls one ftui.core function and posts the result as a message.

They never touch widgets; the app's handlers own every state change. A core module that is
missing (an older checkout) or fails becomes an `error` string on the message, shown as such:
never a made-up value.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual import work
from textual.app import App

from ftui.core.spec import RunSpec
from ftui.tui import messages as m


@dataclass(frozen=True)
class Loaded:
    """A slow result as the UI sees it: loading, loaded (value) or failed (error)."""

    value: Any = None
    error: str | None = None
    loading: bool = False
    key: Any = None


def core(module: str, name: str) -> Any:
    """`ftui.core.<module>.<name>`, or ImportError naming what is missing."""
    try:
        mod = importlib.import_module(f"ftui.core.{module}")
    except ImportError as exc:
        raise ImportError(f"ftui.core.{module} is not available ({exc})") from None
    try:
        return getattr(mod, name)
    except AttributeError:
        raise ImportError(f"ftui.core.{module}.{name} is not available") from None


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0] if isinstance(exc, ImportError) else text


class CoreWorkers(App[int]):
    """Mixed into FtuiApp: the slow calls, each in its own exclusive worker group."""

    nvml: Any = None

    @work(thread=True, exclusive=True, exit_on_error=False, group="hardware")
    def detect_hardware(self) -> None:
        try:
            report = core("hardware", "detect_hardware")(nvml=self.nvml)
        except Exception as exc:
            self.post_message(m.HardwareDetected(None, _reason(exc)))
            return
        self.post_message(m.HardwareDetected(report))

    @work(thread=True, exclusive=True, exit_on_error=False, group="cached-models")
    def list_cached_models(self) -> None:
        try:
            models = list(core("models", "list_cached_models")())
        except Exception as exc:
            self.post_message(m.CachedModelsListed([], _reason(exc)))
            return
        self.post_message(m.CachedModelsListed(models))

    @work(thread=True, exclusive=True, exit_on_error=False, group="inspect-model")
    def inspect_model(self, name: str, revision: str | None, trust_remote_code: bool) -> None:
        key = (name, revision, trust_remote_code)
        try:
            facts = core("models", "inspect_model")(name, revision, trust_remote_code)
        except Exception as exc:
            self.post_message(m.ModelInspected(key, None, _reason(exc)))
            return
        self.post_message(m.ModelInspected(key, facts))

    @work(thread=True, exclusive=True, exit_on_error=False, group="runs")
    def list_runs(self, root: Path) -> None:
        try:
            runs = list(core("runs", "list_runs")(root))
        except Exception as exc:
            self.post_message(m.RunsListed([], _reason(exc)))
            return
        self.post_message(m.RunsListed(runs))

    @work(thread=True, exclusive=True, exit_on_error=False, group="launch")
    def preflight(self, spec: RunSpec) -> None:
        try:
            report = core("preflight", "preflight")(spec)
        except Exception as exc:
            self.post_message(m.PreflightFinished(None, _reason(exc)))
            return
        self.post_message(m.PreflightFinished(report))

    @work(thread=True, exclusive=True, exit_on_error=False, group="launch")
    def launch(self, spec: RunSpec) -> None:
        try:
            run_dir = core("launch", "launch")(spec, detach=True)
        except Exception as exc:
            self.post_message(m.LaunchFailed(_reason(exc)))
            return
        self.post_message(m.RunLaunched(Path(run_dir)))
