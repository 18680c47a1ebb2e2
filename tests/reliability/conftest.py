"""Shared pieces for the reliability tests: short real demo runs and a killed run to resume.

Runs are the real thing (launcher → supervisor → torchrun → worker) on the demo model; they are
kept short (max_steps, one rank where two add nothing) so the folder runs in a few minutes.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

# The root tests/conftest.py is module "conftest" (this folder is a package, so this file is
# "reliability.conftest" and never shadows it).
from conftest import wait_for_status  # noqa: E402,I001

from .reltools import demo_spec, wait_for_event


@pytest.fixture(scope="session")
def local_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo data as a local file, so a test can edit it (the data fingerprint must see it)."""
    from ftui.core import locations

    folder = tmp_path_factory.mktemp("data")
    target = folder / "qa.jsonl"
    shutil.copy(locations.package_data_dir() / "demo_qa.jsonl", target)
    return target


@pytest.fixture(scope="session")
def killed_run(
    tmp_path_factory: pytest.TempPathFactory, demo_model: Path, local_data: Path
) -> Path:
    """A real run killed after its second checkpoint: resumable, with complete checkpoints.
    Its max_steps is far away so the kill always lands first; a resume passes
    --set train.max_steps=20 to finish soon. Tests copy it before resuming (copy_run)."""
    from ftui.core.launch import kill_run, launch

    root = tmp_path_factory.mktemp("killed")
    spec = demo_spec(
        root,
        f"data.source={local_data}",
        "train.max_steps=1000",
        "train.save_steps=5",
        "train.save_total_limit=3",
        "launch.nproc_per_node=1",
    )
    run_dir = launch(spec)
    wait_for_event(run_dir, lambda e: e.get("type") == "checkpoint" and e["step"] >= 10)
    kill_run(run_dir, grace_s=5)
    status = wait_for_status(run_dir, timeout=30)
    assert status["status"] != "completed", "the run finished before it could be killed"
    return run_dir
