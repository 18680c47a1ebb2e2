"""Fixtures for the wizard's Pilot tests: a private FTUI_HOME per test (the demo model cache
is shared across the session), offline hub, an empty Hugging Face cache, runs under tmp."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Set before anything imports huggingface_hub, which reads these once.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("HF_HOME", tempfile.mkdtemp(prefix="ftui-test-hf-"))
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p
)
SHARED_CACHE = Path(tempfile.mkdtemp(prefix="ftui-test-cache-"))


@pytest.fixture(autouse=True)
def ftui_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "ftui-home"
    home.mkdir()
    (home / "cache").symlink_to(SHARED_CACHE)
    monkeypatch.setenv("FTUI_HOME", str(home))
    monkeypatch.setenv("FTUI_RUNS", str(tmp_path / "runs"))
    # Specs write runs under a relative output.root (runs/): never into the checkout.
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    return home


@pytest.fixture
def fixed_python(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Review step shows the exact command, which starts with the interpreter's path."""
    monkeypatch.setattr(sys, "executable", "/usr/bin/python3")
