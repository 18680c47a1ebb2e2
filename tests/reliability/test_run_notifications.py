"""Issue 19: the supervisor of a real demo run notifies the configured services (apprise's
json:// to a real HTTP server on 127.0.0.1) of exactly what happened: a stall (its ranks
SIGSTOP-ed) and the recovery, completion, a non-finite loss and the failure it causes (with the
failure kind and fix), a stop; and nothing at all when no service is configured."""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path

import pytest
from conftest import wait_for_status
from notify_server import Inbox, notify_server

from ftui.core.launch.spawn import launch, request_stop
from ftui.core.runs.notify import NotifySettings, save_settings
from ftui.core.runs.processes import live_rank_processes, run_is_live, wait_until

from .reltools import demo_spec, wait_for_event

pytestmark = pytest.mark.slow

SHORT = ("train.logging_steps=1", "launch.nproc_per_node=1", "train.save_steps=1000")


def _configure(inbox: Inbox, **stall: float) -> None:
    save_settings(NotifySettings(urls=(inbox.url,), timeout_s=10, **stall))


@pytest.mark.long
def test_a_stall_its_recovery_and_the_completion(tmp_path: Path, own_home: Path) -> None:
    with notify_server() as inbox:
        _configure(inbox, stall_min_s=6, stall_factor=3)
        run = launch(demo_spec(tmp_path, *SHORT, "train.max_steps=40"))
        wait_for_event(run, lambda e: e.get("type") == "metrics" and e["step"] >= 2)
        ranks = live_rank_processes(run)
        assert ranks
        for pid in ranks:
            os.kill(pid, signal.SIGSTOP)
        try:
            inbox.wait_for(1, timeout=60)
        finally:
            for pid in ranks:
                os.kill(pid, signal.SIGCONT)
        assert wait_for_status(run)["status"] == "completed"
        assert wait_until(lambda: len(inbox.messages) >= 3, 30, 0.2), inbox.titles()
        stalled, recovered, completed = inbox.wait_for(3)
    assert inbox.titles() == [
        f"ftui: {run.name} {k}" for k in ("stalled", "recovered", "completed")
    ]
    quiet = re.search(r"stalled: no new step for 0:(\d\d) · step (\d+)/40", stalled["message"])
    assert quiet and int(quiet.group(1)) >= 6, stalled["message"]
    assert "recovered at step" in recovered["message"]
    line = completed["message"]
    assert line.startswith(f"{run.name} completed · step 40/40 · loss ")
    assert f"reattach: ftui monitor {run}" in line and "eval loss" in line and "elapsed" in line
    assert "\n" not in line


@pytest.mark.long
def test_a_nonfinite_loss_and_the_failure_it_causes(tmp_path: Path, own_home: Path) -> None:
    # the recipe of test_checkpoint_safety: a huge weight decay overflows the weights
    sets = ("train.learning_rate=0.01", "train.weight_decay=10000", "train.lr_scheduler=constant")
    with notify_server() as inbox:
        _configure(inbox)
        run = launch(
            demo_spec(tmp_path, *SHORT, *sets, "train.warmup_steps=0", "train.max_steps=40")
        )
        assert wait_for_status(run)["status"] == "failed"
        assert wait_until(lambda: len(inbox.messages) >= 2, 30, 0.2), inbox.titles()
    nonfinite, failed = inbox.messages
    assert inbox.titles() == [f"ftui: {run.name} nonfinite loss", f"ftui: {run.name} failed"]
    assert "non-finite loss at step" in nonfinite["message"]
    assert f"{run.name} failed (nonfinite_loss: " in failed["message"]
    assert "fix: " in failed["message"] and "learning_rate" in failed["message"]


@pytest.mark.long
def test_a_stopped_run_is_announced(tmp_path: Path, own_home: Path) -> None:
    with notify_server() as inbox:
        _configure(inbox)
        run = launch(demo_spec(tmp_path, *SHORT, "train.max_steps=1000"))
        wait_for_event(run, lambda e: e.get("type") == "metrics" and e["step"] >= 2)
        assert request_stop(run)
        assert wait_for_status(run)["status"] == "stopped"
        assert wait_until(lambda: not run_is_live(run), 30, 0.2)
    assert inbox.titles() == [f"ftui: {run.name} stopped"]


@pytest.mark.long
def test_nothing_is_sent_when_no_service_is_configured(tmp_path: Path, own_home: Path) -> None:
    with notify_server() as inbox:
        run = launch(demo_spec(tmp_path, *SHORT, "train.max_steps=3"))
        assert wait_for_status(run)["status"] == "completed"
        assert wait_until(lambda: not run_is_live(run), 30, 0.2)
    assert inbox.messages == []
    assert "notify" not in (run / "logs" / "launcher.log").read_text()
