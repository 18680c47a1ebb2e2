"""Helpers for the wizard's Pilot tests (fixtures are in conftest.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def make_app(gpus: int | None = 0, preset: str | None = None, **kwargs: Any) -> Any:
    """An FtuiApp on `preset` (None = defaults) with a fake NVML of `gpus` GPUs."""
    from ftui.core.presets import resolve_spec
    from ftui.tui.app import FtuiApp

    from .fake_nvml import FakeNvml

    spec = resolve_spec(preset) if preset else None
    nvml = FakeNvml(gpus) if gpus is not None else None
    kwargs.setdefault("runs_root", Path("runs"))
    return FtuiApp(spec, preset_name=preset, nvml=nvml, **kwargs)


async def settle(pilot: Any) -> None:
    """Let workers finish and their messages be handled (never a sleep)."""
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def wait_until(pilot: Any, predicate: Any, timeout: float = 10.0) -> None:
    """For what waits on a debounce timer (typing pauses): poll the app's state, bounded."""
    for _ in range(int(timeout / 0.05)):
        if predicate():
            await settle(pilot)
            return
        await pilot.pause(0.05)
    raise AssertionError("condition not reached in time")
