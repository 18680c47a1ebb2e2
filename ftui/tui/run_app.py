"""Running an ftui app in the terminal so that quitting quits.

Textual runs thread workers in the event loop's default executor, and `asyncio.run` waits for
every one of them on the way out: a quit while the playground loads a model (from_pretrained
cannot be interrupted) or a thread mid-answer left the terminal blank until it finished.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from typing import Any

from textual.app import App

from ftui.core.launch.critical import wait_for_sections


def run_until_quit(app: App[Any]) -> Any:
    """`app.run()`; when the app has ended but some worker thread is still busy, the process
    ends now instead of waiting for it (nothing of ftui's is half-written by a load, an answer
    or a probe; files are written atomically), once a launch's few milliseconds between starting
    the supervisor and recording its pid are over (`core/launch/critical`)."""
    loop = asyncio.new_event_loop()
    result = app.run(loop=loop)  # its own loop: run_until_complete, no wait for the executor
    busy = [
        t for t in threading.enumerate() if t is not threading.current_thread() and not t.daemon
    ]
    if busy:
        wait_for_sections()  # a launch writing its supervisor's pid finishes first
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(app.return_code or 0)
    loop.close()
    return result
