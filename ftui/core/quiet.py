"""The one place library noise is turned down for ftui's own commands.

transformers, huggingface_hub and datasets print progress bars ("Loading weights",
"Writing model shards"), advice ("Token indices sequence length is longer than the specified
maximum…", which ftui's preview and preflight already report in their own words) and
FutureWarnings about their own internals. None of it is the user's business on ftui's
command line; ftui prints its own progress on long work the user asked for (download,
export). The training worker is left alone: its rank logs keep every library line.
"""

from __future__ import annotations

import os
import warnings

# Read by the libraries when they are imported (so: before the first heavy import).
QUIET_ENV = {
    "TRANSFORMERS_VERBOSITY": "error",
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",  # transformers and datasets use the hub's tqdm
    "HF_DATASETS_DISABLE_PROGRESS_BARS": "1",
}
_set_here: set[str] = set()


def quiet_libraries() -> None:
    """Called once by the `ftui` entry point, before any heavy import. A variable the user
    set keeps the user's value."""
    for key, value in QUIET_ENV.items():
        if key not in os.environ:
            os.environ[key] = value
            _set_here.add(key)
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"(transformers|peft)\.")
    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"transformers\.")


def unquiet(env: dict[str, str]) -> dict[str, str]:
    """`env` for a child that should speak as the libraries do (the training ranks): without
    the variables quiet_libraries() set."""
    return {k: v for k, v in env.items() if k not in _set_here}
