"""Stop and kill (ftui.core.launch.spawn): the whole process group goes, no orphaned worker, and a
reused pid is never signalled."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from fake_runs import make_run  # noqa: E402

from ftui.core.launch.spawn import kill_run, request_stop  # noqa: E402
from ftui.core.runs.events import last_status, read_events  # noqa: E402
from ftui.core.runs.processes import group_members, process_start_time  # noqa: E402
from ftui.core.runs.status import run_status  # noqa: E402

# A leader that ignores SIGTERM and a child in the same group: only SIGKILL ends them, and the
# child would be an orphaned worker if only the leader were signalled.
STUBBORN = (
    "import signal, subprocess, sys, time\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "subprocess.Popen([sys.executable, '-c', "
    "'import signal,time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)'])\n"
    "print('ready', flush=True)\n"
    "time.sleep(60)\n"
)


def _spawn(tmp_path: Path, code: str) -> subprocess.Popen:
    log = open(tmp_path / "leader.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=log, stderr=log, start_new_session=True
    )
    log.close()
    threading.Thread(target=proc.wait, daemon=True).start()  # reap it like init would
    deadline = time.monotonic() + 10
    while "ready" not in (tmp_path / "leader.log").read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    return proc


def test_request_stop_writes_stop_file_only_for_a_live_run(tmp_path: Path) -> None:
    run = make_run(tmp_path / "dead", final=None)
    assert not request_stop(run) and not (run / "STOP").exists()
    proc = _spawn(tmp_path, "print('ready', flush=True)\nimport time\ntime.sleep(60)\n")
    try:
        live = make_run(
            tmp_path / "live",
            final=None,
            pid=proc.pid,
            pid_start_time=process_start_time(proc.pid),
        )
        assert request_stop(live) and (live / "STOP").is_file()
    finally:
        os.killpg(proc.pid, 9)


def test_kill_run_ends_the_whole_group_within_the_bound(tmp_path: Path) -> None:
    proc = _spawn(tmp_path, STUBBORN)
    try:
        assert len(group_members(proc.pid)) == 2
        run = make_run(
            tmp_path, final=None, pid=proc.pid, pid_start_time=process_start_time(proc.pid)
        )
        assert run_status(run).live
        started = time.monotonic()
        assert kill_run(run, grace_s=0.5)
        while group_members(proc.pid) and time.monotonic() - started < 5.5:
            time.sleep(0.05)  # SIGKILLed processes take a moment to go
        assert group_members(proc.pid) == []  # no orphaned worker, within the bound
        status = last_status(read_events(run))
        assert status is not None and status["status"] in ("stopped", "failed")
        assert run_status(run).status == status["status"] and not run_status(run).live
    finally:
        for pid in group_members(proc.pid):
            os.kill(pid, 9)


def test_kill_run_with_reused_pid_signals_nothing(tmp_path: Path) -> None:
    proc = _spawn(tmp_path, "print('ready', flush=True)\nimport time\ntime.sleep(60)\n")
    try:
        start = process_start_time(proc.pid)
        assert start is not None
        run = make_run(tmp_path, final=None, pid=proc.pid, pid_start_time=start + 5)
        assert not kill_run(run, grace_s=0.1)
        assert proc.poll() is None  # the unrelated process is untouched
    finally:
        os.killpg(proc.pid, 9)


def test_processes_left_behind_by_a_dead_leader_are_found_and_killed(tmp_path: Path) -> None:
    from ftui.core.runs.processes import kill_leftovers, leftover_processes

    proc = _spawn(tmp_path, STUBBORN)
    try:
        run = make_run(
            tmp_path, final=None, pid=proc.pid, pid_start_time=process_start_time(proc.pid)
        )
        assert leftover_processes(run) == []  # the leader lives: nothing is left over
        os.kill(proc.pid, 9)  # only the leader, as when the supervisor is SIGKILLed
        deadline = time.monotonic() + 10
        while process_start_time(proc.pid) is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        left = leftover_processes(run)
        assert len(left) == 1 and left[0] != proc.pid
        info = run_status(run)
        assert info.status == "failed" and not info.live and info.leftover_pids == tuple(left)
        assert "1 of its processes still run" in info.reason and not info.resumable
        assert kill_leftovers(run) == 1
        assert group_members(proc.pid) == [] and leftover_processes(run) == []
    finally:
        for pid in group_members(proc.pid):
            os.kill(pid, 9)
