"""Stop and kill a run: a polite request first (STOP), then the whole process group.

The launcher starts every run in its own session, so the run is one process group whose id is
the leader's pid (run.json). Before any signal the pid is checked against its recorded start
time, so a reused pid never gets one.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from ftui.core.atomic import atomic_write_text
from ftui.core.events import TERMINAL_STATUSES, append_event, last_status, read_events
from ftui.core.rundir import RunPaths, is_process_alive, read_run_json


def request_stop(run_dir: str | os.PathLike[str]) -> Path:
    """Ask every rank to save a checkpoint and stop at the same step (they watch for STOP)."""
    stop = RunPaths(Path(run_dir)).stop_file
    atomic_write_text(stop, f"{time.time():.3f}\n")
    return stop


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes in a process group."""
    proc = Path("/proc")
    if not proc.is_dir():
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return []
        except PermissionError:
            pass
        return [pgid]
    members = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_bytes().rsplit(b")", 1)[-1].split()
        except OSError:
            continue
        if len(fields) > 2 and fields[0] not in (b"Z", b"X") and int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


def _wait_gone(pgid: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while True:
        if not group_members(pgid):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


def kill_run(run_dir: str | os.PathLike[str], grace_s: float = 10.0) -> bool:
    """SIGTERM the run's whole process group, then SIGKILL what is left after grace_s.

    Returns False when the run was not live (nothing signalled). Afterwards a `failed` status
    ("killed on request") is recorded when the run did not write a final status itself.
    """
    root = Path(run_dir)
    info = read_run_json(root)
    pid = info.get("pid")
    if not pid or not is_process_alive(pid, info.get("pid_start_time")):
        return False
    pid = int(pid)
    try:
        pgid = os.getpgid(pid)
    except ProcessLookupError:
        return False
    if pgid != pid:  # not the group leader the launcher promised: signal only that process
        os.kill(pid, signal.SIGTERM)
        time.sleep(min(grace_s, 1.0))
        if is_process_alive(pid, info.get("pid_start_time")):
            os.kill(pid, signal.SIGKILL)
    else:
        _signal_group(pgid, signal.SIGTERM)
        if not _wait_gone(pgid, grace_s):
            _signal_group(pgid, signal.SIGKILL)
            _wait_gone(pgid, 5.0)
    status = last_status(read_events(root))
    if status is None or status.get("status") not in TERMINAL_STATUSES:
        append_event(root, "status", status="failed", reason="killed on request")
    return True
