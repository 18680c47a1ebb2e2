"""`ftui` and `ftui --preset NAME`: load the preset (a clear error, not a traceback, when it
cannot be used) and run the wizard."""

from __future__ import annotations

import sys


def run_app(preset: str | None = None) -> int:
    from ftui.core.spec import SpecError

    spec = None
    if preset:
        from ftui.core.presets import resolve_spec

        try:
            spec = resolve_spec(preset)
        except SpecError as exc:
            for line in exc.problems:
                print(f"error: {line}", file=sys.stderr)
            return 2
    from ftui.tui.app import FtuiApp
    from ftui.tui.run_app import run_until_quit

    result = run_until_quit(FtuiApp(spec, preset_name=preset))
    return int(result or 0)
