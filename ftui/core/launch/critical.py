"""What a quitting ftui lets finish: a launch between starting a run's supervisor and writing
its pid into run.json (cut there, the run trains on with nothing pointing at its process).

`run_until_quit` ends the process without waiting for busy worker threads (a model load cannot
be interrupted); it waits for a section held here, which takes milliseconds.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

_LOCK = threading.Lock()


@contextmanager
def must_finish() -> Iterator[None]:
    """A section a quit waits for (one at a time: launches in one process do not overlap)."""
    with _LOCK:
        yield


def wait_for_sections(timeout_s: float = 30.0) -> bool:
    """Block until no section runs (False when one still runs after `timeout_s`)."""
    if not _LOCK.acquire(timeout=timeout_s):
        return False
    _LOCK.release()
    return True
