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

    def pid_file(self, rank: int) -> Path:
        return self.pids / f"rank{rank}.json"

    def pid_files(self) -> list[Path]:
        return sorted(self.pids.glob("rank*.json"))


def read_json_object(path: Path) -> dict[str, Any]:
    """A JSON object from one of the run's small files; {} when missing, unreadable or not one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def read_run_json(root: str | os.PathLike[str]) -> dict[str, Any]:
    return read_json_object(RunPaths(Path(root)).run_json)


def update_run_json(root: str | os.PathLike[str], **fields: Any) -> dict[str, Any]:
    data = read_run_json(root)
    data.update(fields)
    atomic_write_json(RunPaths(Path(root)).run_json, data)
    return data
