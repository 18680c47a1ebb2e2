"""Stand-alone apps for `ftui monitor RUN` and `ftui runs`, without the wizard."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual.screen import Screen

from ftui.tui.base_app import FtuiBaseApp
from ftui.tui.screens.monitor import MonitorScreen
from ftui.tui.screens.runs import RunsScreen
from ftui.tui.widgets.wizard.gpu_panel import HostSample


class MonitorApp(FtuiBaseApp):
    """One run's monitor; leaving it ends the app, never the run."""

    TITLE = "ftui monitor"
    CSS_PATH = "styles/monitor.tcss"  # the default screen's own CSS_PATH is not loaded

    def __init__(
        self,
        run_dir: str | Path,
        gpu_sampler: Callable[[], HostSample] | None = None,
        stall_after_s: float = 600.0,
    ) -> None:
        super().__init__()
        self.run_dir = Path(run_dir)
        self.gpu_sampler = gpu_sampler
        self.stall_after_s = stall_after_s

    def get_default_screen(self) -> Screen:
        return MonitorScreen(
            self.run_dir, gpu_sampler=self.gpu_sampler, stall_after_s=self.stall_after_s
        )


class RunsApp(FtuiBaseApp):
    """The list of runs; Enter opens a monitor, q goes back."""

    TITLE = "ftui runs"
    CSS_PATH = "styles/monitor.tcss"

    def __init__(
        self, root: str | Path, gpu_sampler: Callable[[], HostSample] | None = None
    ) -> None:
        super().__init__()
        self.root = Path(root)
        self.gpu_sampler = gpu_sampler

    def get_default_screen(self) -> Screen:
        return RunsScreen(self.root, gpu_sampler=self.gpu_sampler)
