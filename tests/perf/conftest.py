"""Fixtures for the throughput work's correctness tests: a tiny random Llama and small data."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

from .perf_helpers import corpus, write_rows  # noqa: E402


@pytest.fixture(autouse=True)
def _ftui_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FTUI_HOME", str(tmp_path_factory.getbasetemp() / "ftui_home"))


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from ftui.core.demo import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "llama", corpus=corpus(300))


@pytest.fixture
def rows_file(tmp_path: Path) -> Path:
    return write_rows(tmp_path / "rows.jsonl", 48)
