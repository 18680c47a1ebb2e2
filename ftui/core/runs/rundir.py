"""The run directory: the contract between launcher, worker, monitor and playground.

runs/<name>-<timestamp>/   (0700)
  config.yaml      resolved RunSpec                 (launcher)
  command.txt      exact argv, shell-quoted         (launcher)
  run.json         pid, start time, host, argv      (launcher)
  events.jsonl     one JSON event a line            (rank 0)
  logs/            launcher.log, rank<N>.log        (launcher, every rank)
  checkpoints/     checkpoint-N/ + COMPLETE marker  (Trainer, rank 0)
  final/           adapter or model + tokenizer     (rank 0)
  pids/            rank<N>.json: pid + start time   (every rank)
  STOP             request to save and stop         (monitor, ftui stop)
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ftui.core.atomic import atomic_write_json


@dataclass(frozen=True)
class RunPaths:
    root: Path

    @property
    def config(self) -> Path:
        return self.root / "config.yaml"

    @property
    def command(self) -> Path:
        return self.root / "command.txt"

    @property
    def run_json(self) -> Path:
        return self.root / "run.json"

    @property
    def events(self) -> Path:
        return self.root / "events.jsonl"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    @property
    def final(self) -> Path:
        return self.root / "final"

    @property
    def stop_file(self) -> Path:
        return self.root / "STOP"

    def rank_log(self, rank: int) -> Path:
        return self.logs / f"rank{rank}.log"

    @property
    def launcher_log(self) -> Path:
        return self.logs / "launcher.log"

    @property
    def pids(self) -> Path:
        """pids/rank<N>.json: each rank's pid and start time. torchrun starts ranks in their own
        sessions, so they are not in the run's process group: this is how stop/kill find them."""
        return self.root / "pids"


def read_run_json(root: str | os.PathLike[str]) -> dict[str, Any]:
    try:
        data = json.loads((Path(root) / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def update_run_json(root: str | os.PathLike[str], **fields: Any) -> dict[str, Any]:
    data = read_run_json(root)
    data.update(fields)
    atomic_write_json(Path(root) / "run.json", data)
    return data


def process_start_time(pid: int) -> int | None:
    """Start time of a process in clock ticks since boot (Linux /proc), or None if gone.

    Together with the pid it identifies one process: a reused pid has another start time.
    """
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            raw = fh.read().decode("utf-8", "replace")
    except OSError:
        return _start_time_fallback(pid)
    # The command name (field 2) may hold spaces and parens: split after the last ')'.
    fields = raw.rsplit(")", 1)[-1].split()
    try:
        state = fields[0]
        if state in ("Z", "X"):  # zombie or dead: not running
            return None
        return int(fields[19])
    except (IndexError, ValueError):
        return None


def _start_time_fallback(pid: int) -> int | None:
    if not Path("/proc").is_dir():  # macOS and others: liveness only
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return 0
        return 0
    return None


def is_process_alive(pid: int | None, start_time: int | None) -> bool:
    if not pid:
        return False
    now = process_start_time(int(pid))
    if now is None:
        return False
    return start_time is None or now == start_time or now == 0


def run_is_live(root: str | os.PathLike[str]) -> bool:
    info = read_run_json(root)
    return is_process_alive(info.get("pid"), info.get("pid_start_time"))


def record_rank_process(root: str | os.PathLike[str], rank: int) -> None:
    paths = RunPaths(Path(root))
    paths.pids.mkdir(exist_ok=True, mode=0o700)
    pid = os.getpid()
    atomic_write_json(
        paths.pids / f"rank{rank}.json", {"pid": pid, "start_time": process_start_time(pid)}
    )


def live_rank_processes(root: str | os.PathLike[str]) -> list[int]:
    """Pids of this run's ranks that are still alive (pid and start time both match)."""
    out = []
    for f in sorted(RunPaths(Path(root)).pids.glob("rank*.json")):
        try:
            info = json.loads(f.read_text())
        except (OSError, ValueError):
            continue
        pid, start = info.get("pid"), info.get("start_time")
        if isinstance(pid, int) and start is not None and is_process_alive(pid, start):
            out.append(pid)
    return out
