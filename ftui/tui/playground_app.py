"""A small standalone app for `ftui chat RUN|MODEL`: the playground without the wizard."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from textual.screen import Screen

from ftui.core.runs.checkpoints import CheckpointChoice
from ftui.tui.base_app import FtuiBaseApp
from ftui.tui.run_app import run_until_quit
from ftui.tui.screens.playground import PlaygroundScreen


class PlaygroundApp(FtuiBaseApp):
    TITLE = "ftui chat"
    CSS_PATH = "styles/playground.tcss"  # the default screen's own CSS_PATH is not loaded

    def __init__(
        self,
        target: str | Path,
        base: bool = False,
        checkpoint: CheckpointChoice = None,
        clock: Callable[[], float] = time.perf_counter,
        device: str | None = None,
    ) -> None:
        super().__init__()
        self.device = device
        self.target = target
        self.base = base
        self.checkpoint = checkpoint
        self.clock = clock

    def get_default_screen(self) -> Screen:
        return PlaygroundScreen(
            self.target, self.base, self.checkpoint, clock=self.clock, device=self.device
        )


def run_playground(
    target: str | Path, base: bool = False, checkpoint: CheckpointChoice = None
) -> int:
    """Open the playground on a run directory (or a model); returns the exit code."""
    run_until_quit(PlaygroundApp(target, base=base, checkpoint=checkpoint))
    return 0
