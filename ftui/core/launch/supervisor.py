"""The detached process that owns a run: `python -m ftui.core.launch.supervisor RUN_DIR -- ARGV...`.

The launcher starts it in its own session (so it survives the TUI, the terminal and an SSH
drop); it runs torchrun as its child, forwards SIGTERM/SIGINT to it, and when torchrun exits
without rank 0 having written a final status (a rank was killed, torchrun itself failed) it
writes one, with the exit code and the last lines of the logs. It also sends the run's
notifications (runs/run_alerts). Stdlib only (apprise, when notifications are configured).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from ftui.core.runs.events import TERMINAL_STATUSES, append_event, last_status, read_events
from ftui.core.runs.run_alerts import start_run_alerts
from ftui.core.runs.rundir import RunPaths, update_run_json


def _tail(path: Path, n: int = 5) -> str:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 8192))
            lines = fh.read().decode("utf-8", "replace").strip().splitlines()
    except OSError:
        return ""
    return " | ".join(line.strip() for line in lines[-n:] if line.strip())[:600]


def supervise(run_dir: Path, argv: list[str]) -> int:
    paths = RunPaths(run_dir)
    alerts = start_run_alerts(run_dir)  # notifications (`ftui notify`); None when none is set
    child = subprocess.Popen(argv, stdin=subprocess.DEVNULL)  # inherits our log file as output

    def forward(signum: int, _frame: object) -> None:
        try:
            child.send_signal(signum)
        except ProcessLookupError:
            pass

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    code = child.wait()
    status = last_status(read_events(run_dir))
    final = status.get("status") if status else None
    if final not in TERMINAL_STATUSES:
        reason = f"training exited with code {code} without a final status"
        detail = _tail(paths.rank_log(0)) or _tail(paths.launcher_log)
        if detail:
            reason += f": {detail}"
        append_event(run_dir, "status", status="failed", reason=reason, exit_code=code)
    update_run_json(run_dir, exit_code=code)
    if alerts is not None:
        alerts.close()  # the final status, once; bounded by its timeout, never raises
    return code


def main() -> int:
    if len(sys.argv) < 4 or sys.argv[2] != "--":
        print("usage: python -m ftui.core.launch.supervisor RUN_DIR -- ARGV...", file=sys.stderr)
        return 2
    return supervise(Path(sys.argv[1]), sys.argv[3:])


if __name__ == "__main__":
    raise SystemExit(main())
