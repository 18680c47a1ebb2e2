"""The detached process that owns a run: `python -m ftui.core.launch.supervisor RUN_DIR -- ARGV...`.

The launcher starts it in its own session (so it survives the TUI, the terminal and an SSH
drop) and hands it the run's lock, which it holds for its whole life; it runs torchrun as its
child, forwards SIGTERM/SIGINT to it, and when torchrun exits it ends any rank still running (a
killed torchrun leaves its ranks training; they are reparented to the supervisor, a child
subreaper) and writes the true final status: which rank a signal ended, or that torchrun itself
was killed, or the exit code and the last lines of the logs. Its umask (inherited by torchrun
and every rank) keeps each file of the run private. Stdlib only.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from ftui.core.runs.events import TERMINAL_STATUSES, append_event, last_status, read_events
from ftui.core.runs.failures import RANK_KILLED_HINT, rank_killed, signal_name
from ftui.core.runs.processes import (
    become_subreaper,
    end_processes,
    live_rank_processes,
    orphaned_children,
    term_then_kill,
)
from ftui.core.runs.rundir import RunPaths, update_run_json

ORPHAN_GRACE_S = 10.0  # SIGTERM, then this long before SIGKILL, for ranks torchrun left behind


def _read_end(path: Path, size: int = 8192) -> str:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - size))
            return fh.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _tail(path: Path, n: int = 5) -> str:
    lines = _read_end(path).strip().splitlines()
    return " | ".join(line.strip() for line in lines[-n:] if line.strip())[:600]


def _end_orphans(run_dir: Path) -> int:
    """End the ranks (and their children) still running after torchrun exited: none should be."""

    def orphans() -> list[int]:
        return sorted(set(live_rank_processes(run_dir)) | set(orphaned_children()))

    count = len(orphans())
    if count:
        end_processes(orphans, term_then_kill(ORPHAN_GRACE_S))
    _reap()
    return count


def _reap() -> None:
    """Collect the exit status of orphans reparented to us, so none stays a zombie."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def supervise(run_dir: Path, argv: list[str]) -> int:
    paths = RunPaths(run_dir)
    os.umask(0o077)  # every file torchrun and the ranks write is private, like the run dir
    become_subreaper()
    child = subprocess.Popen(argv, stdin=subprocess.DEVNULL)  # inherits our log file as output

    forwarded: list[int] = []  # signals asked of the run (ftui stop --kill): not a crash

    def forward(signum: int, _frame: object) -> None:
        forwarded.append(signum)
        try:
            child.send_signal(signum)
        except ProcessLookupError:
            pass

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    code = child.wait()
    ended = _end_orphans(run_dir)
    status = last_status(read_events(run_dir))
    final = status.get("status") if status else None
    death = rank_killed(_read_end(paths.launcher_log, 65536))
    if code < 0 and not forwarded:  # torchrun was killed: what rank 0 wrote is not the story
        reason = f"torchrun (pid {child.pid}) was killed by {signal_name(code)}"
        if ended:
            reason += f"; the supervisor ended the {ended} processes it left running"
        append_event(run_dir, "status", status="failed", reason=reason, exit_code=code)
    elif death is not None and not forwarded and final not in ("completed", "stopped"):
        # The other ranks' errors (gloo's "Connection reset by peer") follow from this death.
        append_event(
            run_dir, "error", kind="rank_killed", message=death.message, hint=RANK_KILLED_HINT
        )
        append_event(run_dir, "status", status="failed", reason=death.message, exit_code=code)
    elif final not in TERMINAL_STATUSES:
        reason = f"training exited with code {code} without a final status"
        detail = _tail(paths.rank_log(0)) or _tail(paths.launcher_log)
        if detail:
            reason += f": {detail}"
        append_event(run_dir, "status", status="failed", reason=reason, exit_code=code)
    update_run_json(run_dir, exit_code=code)
    return code


def main() -> int:
    if len(sys.argv) < 4 or sys.argv[2] != "--":
        print("usage: python -m ftui.core.launch.supervisor RUN_DIR -- ARGV...", file=sys.stderr)
        return 2
    return supervise(Path(sys.argv[1]), sys.argv[3:])


if __name__ == "__main__":
    raise SystemExit(main())
