"""A run's processes: the one place ftui reads /proc and the one place it signals and waits.

A process is named by its pid *and* its start time (clock ticks since boot, from
/proc/<pid>/stat), so a pid the kernel has handed to another program never counts as the run.
The run's processes are its supervisor's process group (pid in run.json) plus the ranks recorded
under pids/ (torchrun starts ranks in sessions of their own, so the group alone misses them).

Ending processes is one ladder, `signal_and_wait`: send a signal, wait up to a deadline for them
to go, escalate to the next signal (SIGTERM, then SIGKILL). Where there is no /proc (macOS) a
process is only checked for existence and its start time reads as 0 ("unknown, but alive").
"""

from __future__ import annotations

import fcntl
import os
import signal
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ftui.core.atomic import atomic_write_json
from ftui.core.runs.rundir import RunPaths, read_json_object, read_run_json

PROC = Path("/proc")
GONE_STATES = ("Z", "X")  # zombie or dead: exited, only not reaped yet
KILL_WAIT_S = 5.0  # how long SIGKILLed processes get to disappear

# One rung of the ladder: a signal, then how long to wait for the processes to go.
Rung = tuple[int, float]


@dataclass(frozen=True)
class ProcStat:
    """The fields of /proc/<pid>/stat that ftui uses."""

    pid: int
    state: str
    ppid: int
    pgid: int
    start_time: int  # clock ticks since boot

    @property
    def running(self) -> bool:
        return self.state not in GONE_STATES


def parse_stat(pid: int, raw: bytes) -> ProcStat | None:
    """One /proc/<pid>/stat line, or None when it does not parse."""
    # The command name (field 2) may hold spaces and parens: split after the last ')'.
    fields = raw.rsplit(b")", 1)[-1].split()
    try:
        return ProcStat(
            pid=pid,
            state=fields[0].decode("ascii", "replace"),
            ppid=int(fields[1]),
            pgid=int(fields[2]),
            start_time=int(fields[19]),
        )
    except (IndexError, ValueError):
        return None


def read_stat(pid: int) -> ProcStat | None:
    """/proc/<pid>/stat of one process, or None if it is gone (or there is no /proc)."""
    try:
        raw = (PROC / str(pid) / "stat").read_bytes()
    except OSError:
        return None
    return parse_stat(pid, raw)


def all_processes() -> Iterator[ProcStat]:
    """Every process /proc lists (nothing where there is no /proc)."""
    try:
        entries = list(PROC.iterdir())
    except OSError:
        return
    for entry in entries:
        if entry.name.isdigit() and (stat := read_stat(int(entry.name))) is not None:
            yield stat


def process_start_time(pid: int) -> int | None:
    """Start time of a running process in clock ticks since boot, or None if it is gone.

    Together with the pid it identifies one process: a reused pid has another start time.
    Where there is no /proc, 0 for a process that exists (its start time is unknown)."""
    if not PROC.is_dir():
        return 0 if _exists(pid) else None
    stat = read_stat(pid)
    return stat.start_time if stat is not None and stat.running else None


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the pid exists
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def is_process_alive(pid: int | None, start_time: int | None) -> bool:
    """The process with this pid and start time still runs (start_time None: any with this pid)."""
    if not pid:
        return False
    now = process_start_time(int(pid))
    if now is None:
        return False
    return start_time is None or now == start_time or now == 0


def group_members(pgid: int) -> list[int]:
    """Running (non-zombie) processes whose process group is pgid ([] where there is no /proc)."""
    try:
        os.killpg(pgid, 0)  # cheap: is there any member at all? (a scan of /proc is not)
    except ProcessLookupError:
        return []
    except (PermissionError, OSError):
        pass
    return sorted(p.pid for p in all_processes() if p.running and p.pgid == pgid)


def own_resident_bytes() -> int | None:
    """This process's resident memory now (/proc/self/statm), or None where unknown."""
    try:
        with open(PROC / "self" / "statm", "rb") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def own_peak_resident_bytes() -> int | None:
    """This process's peak resident memory (VmHWM in /proc/self/status), or None where unknown."""
    try:
        with open(PROC / "self" / "status", "rb") as fh:
            for line in fh:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def send_signal(pid: int, sig: int, group: bool = False) -> bool:
    """Signal one process (or, with group, its process group); False if it is already gone."""
    try:
        if group:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except ProcessLookupError:
        return False
    return True


def wait_until(done: Callable[[], bool], timeout_s: float, poll_s: float = 0.05) -> bool:
    """Poll done() until it is true or timeout_s has passed; its last answer."""
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() >= deadline:
            return False
        time.sleep(poll_s)
    return True


def term_then_kill(grace_s: float, kill_wait_s: float = KILL_WAIT_S) -> tuple[Rung, ...]:
    """The usual ladder: SIGTERM, grace_s to exit cleanly, then SIGKILL."""
    return ((signal.SIGTERM, grace_s), (signal.SIGKILL, kill_wait_s))


def signal_and_wait(
    send: Callable[[int], object],
    alive: Callable[[], bool],
    ladder: Sequence[Rung],
    poll_s: float = 0.05,
) -> bool:
    """Climb the ladder: send each rung's signal, then wait up to its seconds for alive() to
    turn false; stop as soon as nothing is left. True when nothing is left at the end."""
    for sig, wait_s in ladder:
        if not alive():
            return True
        send(sig)
        if wait_until(lambda: not alive(), wait_s, poll_s):
            return True
    return not alive()


def record_rank_process(root: str | os.PathLike[str], rank: int) -> None:
    """Write pids/rank<N>.json for the calling rank: its pid and start time."""
    paths = RunPaths(Path(root))
    paths.pids.mkdir(exist_ok=True, mode=0o700)
    pid = os.getpid()
    atomic_write_json(paths.pid_file(rank), {"pid": pid, "start_time": process_start_time(pid)})


def live_rank_processes(root: str | os.PathLike[str]) -> list[int]:
    """Pids of this run's ranks that are still alive (pid and start time both match)."""
    out = []
    for f in RunPaths(Path(root)).pid_files():
        info = read_json_object(f)
        pid, start = info.get("pid"), info.get("start_time")
        if isinstance(pid, int) and start is not None and is_process_alive(pid, start):
            out.append(pid)
    return out


def describe_process(pid: int) -> str:
    """A pid with what it runs, for messages: "1234 (torchrun)", "1240 (ftui.train)"."""
    try:
        args = (PROC / str(pid) / "cmdline").read_bytes().split(b"\0")
    except OSError:
        return str(pid)
    words = [a.decode("utf-8", "replace") for a in args if a]
    if "-m" in words[:-1]:
        name = words[words.index("-m") + 1]
        name = "torchrun" if name == "torch.distributed.run" else name
    else:
        name = os.path.basename(words[0]) if words else ""
    if name == "ftui.core.launch.supervisor":
        name = "supervisor"
    return f"{pid} ({name})" if name else str(pid)


def orphaned_children(parent: int | None = None) -> list[int]:
    """Running processes whose parent is `parent` (default: this process): after a
    PR_SET_CHILD_SUBREAPER, the ranks a killed torchrun left behind become ours."""
    me = os.getpid() if parent is None else parent
    return sorted(p.pid for p in all_processes() if p.running and p.ppid == me)


def become_subreaper() -> bool:
    """Orphaned descendants are reparented to this process instead of init (Linux only)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False


def end_processes(pids: Callable[[], list[int]], ladder: Sequence[Rung]) -> bool:
    """Climb the ladder over the processes pids() names each time (asked again per rung)."""

    def send(sig: int) -> None:
        for pid in pids():
            send_signal(pid, sig)

    return signal_and_wait(send, lambda: bool(pids()), ladder)


def lock_run(root: str | os.PathLike[str]) -> int | None:
    """Take the run's lock (an exclusive flock on its lock file) without waiting: the open fd,
    or None when another process holds it. The lock goes with the fd: the launcher takes it and
    hands the fd to the supervisor, which holds it for its whole life, so two launches into one
    run dir can never both pass the check that no process of the run lives."""
    path = RunPaths(Path(root)).lock
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def run_is_live(root: str | os.PathLike[str]) -> bool:
    """The run's supervisor (run.json pid + start time) still runs."""
    info = read_run_json(root)
    return is_process_alive(info.get("pid"), info.get("pid_start_time"))


def run_processes(run_dir: str | os.PathLike[str], pgid: int) -> list[int]:
    """Every live process of a run: its process group and its recorded ranks."""
    return sorted(set(group_members(pgid)) | set(live_rank_processes(run_dir)))


def signal_run(run_dir: str | os.PathLike[str], pgid: int, sig: int) -> None:
    """One signal to the run's process group and to each recorded rank that still runs."""
    send_signal(pgid, sig, group=True)
    for pid in live_rank_processes(run_dir):
        send_signal(pid, sig)


def end_run_processes(
    run_dir: str | os.PathLike[str], pgid: int, ladder: Sequence[Rung], poll_s: float = 0.05
) -> bool:
    """Climb the ladder over every process of the run; True when none is left."""
    return signal_and_wait(
        lambda sig: signal_run(run_dir, pgid, sig),
        lambda: bool(run_processes(run_dir, pgid)),
        ladder,
        poll_s,
    )


def all_run_processes(run_dir: str | os.PathLike[str]) -> list[int]:
    """Every live process of a run, its supervisor included, whatever its status says."""
    pid = read_run_json(run_dir).get("pid")
    live = live_rank_processes(run_dir)
    if isinstance(pid, int) and pid > 0:
        live = run_processes(run_dir, pid)
        if is_process_alive(pid, read_run_json(run_dir).get("pid_start_time")):
            live = sorted({pid, *live})
    return live


def leftover_processes(run_dir: str | os.PathLike[str]) -> list[int]:
    """Processes of a run whose group leader (run.json pid) is gone, e.g. ranks left behind
    when the supervisor was killed: members of its process group (Linux never reuses a pid
    while a group of that number has members) and ranks recorded under pids/ that still run."""
    pid = read_run_json(run_dir).get("pid")
    if not isinstance(pid, int) or pid <= 0 or process_start_time(pid) is not None:
        return []
    return run_processes(run_dir, pid)


def kill_leftovers(run_dir: str | os.PathLike[str], timeout_s: float = KILL_WAIT_S) -> int:
    """SIGKILL what is left of a run whose leader died; returns how many processes were left."""
    leftovers = leftover_processes(run_dir)
    if leftovers:
        pgid = int(read_run_json(run_dir)["pid"])
        end_run_processes(run_dir, pgid, ((signal.SIGKILL, timeout_s),))
    return len(leftovers)
