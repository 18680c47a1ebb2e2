"""Helpers shared by the playground's Pilot tests."""

from __future__ import annotations

import time
from collections.abc import Callable


async def wait_for(pilot, done: Callable[[], bool], timeout: float = 120.0) -> None:  # type: ignore[no-untyped-def]
    """Pause until `done()` holds (or fail after `timeout`), then let the workers finish."""
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "the playground never got there"
        await pilot.pause(0.05)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
