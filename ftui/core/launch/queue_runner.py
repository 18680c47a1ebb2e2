"""Run the queue: `python -m ftui.core.launch.queue_runner` (what `ftui queue run` starts).

One run at a time, in queue order, each launched like `ftui run` (preflight, then the detached
supervisor, on the GPUs its spec asks for) and waited for until its processes are gone. A run
that fails, or a spec that cannot launch, is recorded and the queue goes on. The runner holds
an exclusive lock for its whole life (one runner per queue); detached, it runs in its own
session with stdin /dev/null and its output in runner.log, never a pipe, so it survives the
terminal like a run does.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

from ftui.core import locations
from ftui.core.atomic import atomic_write_json
from ftui.core.launch import queue
from ftui.core.runs.events import read_events, to_float
from ftui.core.runs.processes import is_process_alive, process_start_time, run_is_live
from ftui.core.runs.rundir import read_json_object
from ftui.core.runs.status import run_status
from ftui.core.spec import SpecError

POLL_S = 1.0


class QueueBusy(RuntimeError):
    pass


def runner_file() -> Path:
    return locations.queue_dir() / "runner.json"


def runner_log() -> Path:
    return locations.queue_dir() / "runner.log"


def live_runner() -> int | None:
    """The pid of the queue's runner while one runs."""
    info = read_json_object(runner_file())
    pid = info.get("pid")
    return pid if isinstance(pid, int) and is_process_alive(pid, info.get("start_time")) else None


def summary_line(entries: list[queue.QueueEntry] | None = None) -> str:
    """One line on the queue: what waits, what runs, whether a runner is at work."""
    items = queue.entries() if entries is None else entries
    waiting = sum(e.state == queue.PENDING for e in items)
    running = [e for e in items if e.state == queue.RUNNING]
    pid = live_runner()
    parts = [f"{waiting} pending"]
    if running:
        parts.append("running " + ", ".join(f"#{e.id} {e.name}" for e in running))
    runner = f"runner pid {pid}, log {runner_log()}" if pid else "no runner"
    if not pid and waiting:
        runner += " (`ftui queue run --detach` starts one)"
    return f"queue: {', '.join(parts)}; {runner}"


def _hold_lock() -> IO[str]:
    folder = locations.queue_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    lock = open(folder / "runner.lock", "a")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        pid = live_runner()
        raise QueueBusy(
            f"the queue already has a runner (pid {pid or '?'}); `ftui queue list` shows it"
        ) from None
    pid = os.getpid()
    atomic_write_json(runner_file(), {"pid": pid, "start_time": process_start_time(pid)})
    return lock


def _last(run_dir: Path) -> tuple[float | None, float | None]:
    """(last eval loss, last training loss) of a run."""
    eval_loss = loss = None
    for event in read_events(run_dir):
        if event.get("type") == "eval":
            eval_loss = to_float(event.get("eval_loss"))
        elif event.get("type") == "metrics":
            loss = to_float(event.get("loss"))
    return eval_loss, loss


def _reap() -> None:
    """Collect the exit status of the supervisors this runner started (no zombies pile up)."""
    try:
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
    except ChildProcessError:
        pass


def run_one(entry: queue.QueueEntry, say: Callable[[str], None], poll_s: float = POLL_S) -> None:
    from ftui.core.check.preflight import preflight
    from ftui.core.launch.spawn import LaunchError, launch

    try:
        spec = entry.run_spec()
        report = preflight(spec)
        if not report.ok:
            problems = "; ".join(f"{fld}: {msg}" for fld, msg in report.errors)
            queue.update(entry.id, state="error", reason=f"preflight: {problems}")
            say(f"#{entry.id} {entry.label}: not launched: {problems}")
            return
        run_dir = launch(spec)
    except (SpecError, LaunchError, OSError) as exc:
        queue.update(entry.id, state="error", reason=str(exc), finished=time.time())
        say(f"#{entry.id} {entry.label}: not launched: {exc}")
        return
    queue.update(entry.id, run_dir=str(run_dir))
    say(f"#{entry.id} {entry.label}: running in {run_dir}")
    while run_is_live(run_dir):
        time.sleep(poll_s)
        _reap()
    info = run_status(run_dir)
    eval_loss, loss = _last(run_dir)
    queue.update(
        entry.id,
        state=info.status,
        reason=info.reason,
        eval_loss=eval_loss,
        loss=loss,
        finished=time.time(),
    )
    say(f"#{entry.id} {entry.label}: {info.status} {info.reason}".rstrip())


def run_queue(say: Callable[[str], None] = print, poll_s: float = POLL_S) -> int:
    """Run every pending entry, one after another; how many ran. Raises QueueBusy when the
    queue already has a runner."""
    lock = _hold_lock()
    count = 0
    try:
        while (entry := queue.claim_next()) is not None:
            run_one(entry, say, poll_s)
            count += 1
        say(f"queue empty: {count} run(s) done")
    finally:
        runner_file().unlink(missing_ok=True)
        lock.close()
    return count


def start_detached() -> int:
    """Start the runner in its own session (survives the terminal); its pid."""
    from ftui.core.launch.spawn import child_env
    from ftui.core.spec import RunSpec

    if (pid := live_runner()) is not None:
        raise QueueBusy(f"the queue already has a runner (pid {pid})")
    locations.queue_dir().mkdir(parents=True, exist_ok=True, mode=0o700)
    log = open(runner_log(), "ab")
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "ftui.core.launch.queue_runner"],
            stdin=subprocess.DEVNULL,
            stdout=log,  # a file, never a pipe nobody drains
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own session: survives the terminal and an SSH drop
            close_fds=True,
            env=child_env(RunSpec()),  # ftui importable; no GPU choice (each run makes its own)
        )
    finally:
        log.close()
    return proc.pid


def main() -> int:
    def say(line: str) -> None:
        print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {line}", flush=True)

    try:
        run_queue(say)
    except (QueueBusy, queue.QueueError) as exc:
        say(f"error: {exc}")
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
