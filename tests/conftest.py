"""Shared fixtures. `demo_run`: ONE real demo training run per test session (launch + torchrun).

Tests that use it take `demo` instead: the same run dir, with FTUI_HOME pointed at the home
the run was trained under (so the demo base model comes from the same cache).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p
)


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ftui-home")


@pytest.fixture(scope="session")
def demo_run(demo_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Train the demo preset for real (detached supervisor → torchrun → 2 CPU ranks)."""
    from ftui.core.events import TERMINAL_STATUSES, last_status, read_events
    from ftui.core.launch import launch
    from ftui.core.preflight import preflight
    from ftui.core.presets import resolve_spec

    runs = tmp_path_factory.mktemp("runs")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FTUI_HOME", str(demo_home))
        spec = resolve_spec("demo", [f"output.root={runs}"])
        # As `ftui run` does: preflight first. It also builds the demo model into the cache
        # once, before two ranks would race to build it at the same time.
        report = preflight(spec)
        assert report.ok, report.errors
        run_dir = launch(spec)
        deadline = time.monotonic() + 300
        while True:
            status = last_status(read_events(run_dir)) or {}
            if status.get("status") in TERMINAL_STATUSES:
                break
            assert time.monotonic() < deadline, f"the demo run did not finish: {run_dir}"
            time.sleep(0.5)
    assert status["status"] == "completed", (run_dir / "logs" / "rank0.log").read_text()[-3000:]
    return run_dir


@pytest.fixture
def demo(demo_run: Path, demo_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FTUI_HOME", str(demo_home))
    return demo_run
