"""Every path ftui uses, in one place.

`FTUI_HOME` points all of them at one directory (tests use a temp dir).
"""

from __future__ import annotations

import os
from pathlib import Path

APP = "ftui"


def _home() -> Path | None:
    value = os.environ.get("FTUI_HOME")
    return Path(value) if value else None


def config_dir() -> Path:
    """User config: user presets live here."""
    home = _home()
    if home:
        return home / "config"
    import platformdirs

    return Path(platformdirs.user_config_dir(APP))


def cache_dir() -> Path:
    """Rebuildable things: the demo model, tokenised-data caches."""
    home = _home()
    if home:
        return home / "cache"
    import platformdirs

    return Path(platformdirs.user_cache_dir(APP))


def user_presets_dir() -> Path:
    return config_dir() / "presets"


def builtin_presets_dir() -> Path:
    """Presets shipped with ftui: inside the wheel as ftui/_presets, or ./presets in a checkout."""
    package = Path(__file__).resolve().parent.parent
    shipped = package / "_presets"
    if shipped.is_dir():
        return shipped
    return package.parent / "presets"


def package_data_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "data"


def demo_model_dir() -> Path:
    return cache_dir() / "models" / "demo-tiny-llama"


def tokenized_cache_dir() -> Path:
    return cache_dir() / "tokenized"


def default_runs_root() -> Path:
    """Relative `runs/` in the working directory unless FTUI_RUNS says otherwise."""
    value = os.environ.get("FTUI_RUNS")
    return Path(value) if value else Path("runs")
