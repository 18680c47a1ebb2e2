"""Shared fixtures. Everything is offline; FTUI_HOME points config and cache at a temp dir;
subprocesses import this checkout through PYTHONPATH."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["TRANSFORMERS_NO_ADVISORY_WARNINGS"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p
)
# The real artefacts (`ftui fetch`, `make fixtures`) stay in the user's cache while FTUI_HOME
# becomes a temp dir below: fetched once per machine, shared by every session and subprocess.
if not os.environ.get("FTUI_ARTEFACTS"):
    from ftui.core import locations

    os.environ["FTUI_ARTEFACTS"] = str(locations.artefacts_root())
if "FTUI_HOME" not in os.environ or not os.environ.get("FTUI_TEST_KEEP_HOME"):
    import tempfile

    os.environ["FTUI_HOME"] = tempfile.mkdtemp(prefix="ftui-test-home-")
os.environ.setdefault("HF_DATASETS_CACHE", str(Path(os.environ["FTUI_HOME"]) / "hf-datasets"))


def run_ftui(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 300
):
    """Run the real `ftui` command line in a subprocess; returns CompletedProcess (text)."""
    import subprocess

    return subprocess.run(
        [sys.executable, "-m", "ftui", *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def wait_for_status(run_dir: Path, timeout: float = 240) -> dict:
    """Poll events.jsonl until a terminal status appears (the run is a detached process)."""
    from ftui.core.runs.events import TERMINAL_STATUSES, last_status, read_events

    deadline = time.time() + timeout
    while time.time() < deadline:
        status = last_status(read_events(run_dir))
        if status and status.get("status") in TERMINAL_STATUSES:
            return status
        time.sleep(0.3)
    raise AssertionError(f"{run_dir} did not finish in {timeout}s; logs: {_logs(run_dir)}")


def _logs(run_dir: Path) -> str:
    out = []
    for f in sorted((run_dir / "logs").glob("*.log")):
        out.append(f"--- {f.name}\n" + f.read_text(errors="replace")[-3000:])
    return "\n".join(out)


@pytest.fixture(scope="session")
def demo_model() -> Path:
    from ftui.core.demo import ensure_demo_model

    return ensure_demo_model()


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory, demo_model: Path) -> Path:
    """One real demo run (2 ranks through torchrun), shared by every test that needs a trained
    model. Tests must not modify it."""
    from ftui.core.launch.spawn import launch
    from ftui.core.presets import resolve_spec

    root = tmp_path_factory.mktemp("demo-runs")
    spec = resolve_spec("demo", [f"output.root={root}"])
    run_dir = launch(spec)
    status = wait_for_status(run_dir)
    assert status["status"] == "completed", (status, _logs(run_dir))
    return run_dir


SESSION_HOME = Path(os.environ["FTUI_HOME"])


@pytest.fixture(scope="session")
def demo_home() -> Path:
    """The FTUI_HOME the session's demo run was trained under (its cache holds the base)."""
    return SESSION_HOME


@pytest.fixture
def demo(demo_run: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`demo_run`, with FTUI_HOME pointed back at the session home for this test."""
    monkeypatch.setenv("FTUI_HOME", str(SESSION_HOME))
    return demo_run


_REPO_ENTRIES_AT_START = {p.name for p in REPO.iterdir()}


@pytest.fixture(autouse=True)
def _tests_leave_the_checkout_alone():
    """Tests write into temp dirs only: a file appearing in the checkout's root is a bug."""
    yield
    new = (
        {p.name for p in REPO.iterdir()}
        - _REPO_ENTRIES_AT_START
        - {".pytest_cache", ".hypothesis", "snapshot_report.html"}
    )
    assert not new, f"this test wrote {sorted(new)} into the checkout"
