"""Killing a run leaves no worker behind, also when its supervisor died first. torchrun puts
every rank in a session of its own, so the ranks are found through pids/rank<N>.json."""

from __future__ import annotations

import os
import signal
import time

import pytest

from ftui.core.launch.spawn import kill_run, launch
from ftui.core.presets import resolve_spec
from ftui.core.runs.processes import leftover_processes, live_rank_processes
from ftui.core.runs.rundir import read_run_json
from ftui.core.runs.status import run_status

pytestmark = pytest.mark.slow


def _start_long_run(tmp_path):
    spec = resolve_spec(
        "demo", [f"output.root={tmp_path}", "train.epochs=1000", "train.save_steps=null"]
    )
    run_dir = launch(spec)
    deadline = time.time() + 120
    while len(live_rank_processes(run_dir)) < 2:
        assert time.time() < deadline, "ranks never started"
        time.sleep(0.2)
    return run_dir


def test_kill_run_ends_every_rank(tmp_path, demo_model):
    run_dir = _start_long_run(tmp_path)
    ranks = live_rank_processes(run_dir)
    assert kill_run(run_dir, grace_s=5)
    assert live_rank_processes(run_dir) == []
    for pid in ranks:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_ranks_left_by_a_dead_supervisor_are_found_and_killed(tmp_path, demo_model):
    run_dir = _start_long_run(tmp_path)
    os.kill(read_run_json(run_dir)["pid"], signal.SIGKILL)  # the supervisor dies, ranks go on
    time.sleep(0.5)
    assert run_status(run_dir).status != "running"  # never shown as running with a dead leader
    left = leftover_processes(run_dir)
    assert set(live_rank_processes(run_dir)) <= set(left) and left
    assert kill_run(run_dir, grace_s=5)
    assert live_rank_processes(run_dir) == [] and leftover_processes(run_dir) == []
