"""Every path ftui uses, in one place.

`FTUI_HOME` points all of them at one directory (tests use a temp dir).
`FTUI_ARTEFACTS` points the fetched real artefacts (`ftui fetch`: registry downloads and the
model converted from them) at another root: the test suite keeps it on the user's cache while
FTUI_HOME is a temp dir, so they are fetched once per machine, never per test session.
"""

from __future__ import annotations

import os
from pathlib import Path

APP = "ftui"


def _home() -> Path | None:
    value = os.environ.get("FTUI_HOME")
    return Path(value) if value else None


def config_dir() -> Path:
    """User config: user presets and the notification URLs live here."""
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


def data_dir() -> Path:
    """User state that is neither config nor cache: the run queue and its runner's log."""
    home = _home()
    if home:
        return home / "data"
    import platformdirs

    return Path(platformdirs.user_data_dir(APP))


def queue_dir() -> Path:
    """queue.json (the queued specs), its lock, the runner's pid file and log (launch/queue)."""
    return data_dir() / "queue"


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


def artefacts_root() -> Path:
    """Root of the fetched real artefacts: `FTUI_ARTEFACTS` if set, else the cache dir."""
    value = os.environ.get("FTUI_ARTEFACTS")
    return Path(value) if value else cache_dir()


def artefacts_dir() -> Path:
    """Files taken from registry archives, one directory per artefact (see core/artefacts)."""
    return artefacts_root() / "artefacts"


def fetched_model_dir(name: str) -> Path:
    """A model converted from a fetched artefact (safetensors + tokenizer), e.g.
    cache/models/smollm2-135m-instruct; under FTUI_ARTEFACTS like the artefacts themselves."""
    return artefacts_root() / "models" / name


def gguf_models_dir() -> Path:
    """Dequantised copies of GGUF model files (core/model/gguf), one directory per file version."""
    return cache_dir() / "models" / "gguf"


def tokenized_cache_dir() -> Path:
    return cache_dir() / "tokenized"


def default_runs_root() -> Path:
    """Relative `runs/` in the working directory unless FTUI_RUNS says otherwise."""
    value = os.environ.get("FTUI_RUNS")
    return Path(value) if value else Path("runs")


def notify_file() -> Path:
    """The notification URLs (`ftui notify add`) and stall settings: secrets, so mode 0600 and
    only here, never in a spec, a preset or a run directory."""
    return config_dir() / "notify.yaml"


def screenshots_dir() -> Path:
    """Where the apps save a screenshot: the user's Downloads folder when there is one, else
    the working directory (never a folder that does not exist)."""
    import platformdirs

    downloads = Path(platformdirs.user_downloads_dir())
    return downloads if downloads.is_dir() else Path.cwd()
