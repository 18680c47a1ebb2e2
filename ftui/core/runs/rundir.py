"""The run directory: the contract between launcher, worker, monitor and playground.

runs/<name>-<timestamp>/   (0700)
  config.yaml      resolved RunSpec                 (launcher)
  command.txt      exact argv, shell-quoted         (launcher)
  run.json         pid, start time, host, argv      (launcher)
  events.jsonl     one JSON event a line            (rank 0)
  logs/            launcher.log, rank<N>.log        (launcher, every rank)
  checkpoints/     checkpoint-N/ + COMPLETE marker  (Trainer, rank 0)
  final/           adapter or model + tokenizer     (rank 0)
  forgetting.json  general-text loss, base vs tuned (rank 0)
  lm_eval.json     lm-eval benchmark, base vs tuned (`ftui eval`)
  pids/            rank<N>.json: pid + start time   (every rank)
  STOP             request to save and stop         (monitor, ftui stop)
  run.lock         flock held by the live supervisor (launcher, then supervisor)
  tensorboard/     TensorBoard event files          (rank 0, train.report_to: tensorboard)
  wandb/           wandb's run files (WANDB_DIR)    (rank 0, train.report_to: wandb)
  mlflow.db        MLflow's sqlite store            (rank 0, train.report_to: mlflow)
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from ftui.core.atomic import atomic_write_json


@dataclass(frozen=True)
class RunPaths:
    """Every file of a run directory: the only place their names are spelled. Everything else
    asks this class; a message that names a file uses IN_RUN (paths relative to the run)."""

    root: Path

    # Transformers' Trainer names checkpoints checkpoint-<global step> in its output_dir
    # (PREFIX_CHECKPOINT_DIR); the worker points output_dir at checkpoints/.
    CHECKPOINT_PREFIX: ClassVar[str] = "checkpoint-"
    COMPLETE_MARKER: ClassVar[str] = "COMPLETE"  # inside a checkpoint: its save finished
    EVAL_RECORD: ClassVar[str] = "eval.json"  # inside a checkpoint or final/: its eval loss

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
    def markers(self) -> tuple[Path, ...]:
        """Files only a run directory holds: any one of them makes a folder a run."""
        return (self.run_json, self.events, self.config)

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    def rank_log(self, rank: int) -> Path:
        return self.logs / f"rank{rank}.log"

    @property
    def launcher_log(self) -> Path:
        return self.logs / "launcher.log"

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    def checkpoint(self, step: int) -> Path:
        return self.checkpoints / f"{self.CHECKPOINT_PREFIX}{step}"

    @property
    def final(self) -> Path:
        return self.root / "final"

    @property
    def forgetting(self) -> Path:
        """The forgetting meter: general-text loss of the base and the fine-tuned model."""
        return self.root / "forgetting.json"

    @property
    def lm_eval(self) -> Path:
        """`ftui eval`: lm-eval's scores of the base and the fine-tuned model, per task."""
        return self.root / "lm_eval.json"

    @property
    def stop_file(self) -> Path:
        return self.root / "STOP"

    @property
    def lock(self) -> Path:
        """Held (flock) by the run's supervisor for its whole life: at most one per run dir."""
        return self.root / "run.lock"

    @property
    def tensorboard(self) -> Path:
        """TensorBoard's event files when train.report_to has tensorboard."""
        return self.root / "tensorboard"

    @property
    def wandb(self) -> Path:
        """wandb's own folder (offline-run-*/, run-*/) when WANDB_DIR is the run dir (the default
        ftui gives it: ftui/core/trackers.py)."""
        return self.root / "wandb"

    @property
    def mlflow_db(self) -> Path:
        """MLflow's sqlite store when MLFLOW_TRACKING_URI is unset (ftui/core/trackers.py)."""
        return self.root / "mlflow.db"

    @property
    def pids(self) -> Path:
        """pids/rank<N>.json: each rank's pid and start time. torchrun starts ranks in their own
        sessions, so they are not in the run's process group: this is how stop/kill find them."""
        return self.root / "pids"

    def pid_file(self, rank: int) -> Path:
        return self.pids / f"rank{rank}.json"

    def pid_files(self) -> list[Path]:
        return sorted(self.pids.glob("rank*.json"))


# The run's files relative to its root, for messages and help: IN_RUN.rank_log(0) is
# logs/rank0.log, str(IN_RUN.config) is config.yaml.
IN_RUN = RunPaths(Path())

_RANK_LOG = re.compile(r"^rank(\d+)\.log$")
_CHECKPOINT = re.compile(rf"^{re.escape(RunPaths.CHECKPOINT_PREFIX)}(\d+)$")


def log_rank(path: Path) -> int | None:
    """N for logs/rank<N>.log; None for any other log (launcher.log)."""
    match = _RANK_LOG.match(path.name)
    return int(match.group(1)) if match else None


def checkpoint_step(path: Path) -> int | None:
    """N for checkpoints/checkpoint-N; None for anything else (a set-aside checkpoint too)."""
    match = _CHECKPOINT.match(path.name)
    return int(match.group(1)) if match else None


def escaping_links(root: str | os.PathLike[str]) -> list[str]:
    """Parts of a run dir (its files, folders and each checkpoint) that are symbolic links
    leading out of it, relative to the run: a resume would rename or train into the target."""
    paths = RunPaths(Path(root))
    base = paths.root.resolve()
    parts = [
        paths.config, paths.command, paths.run_json, paths.events, paths.logs,
        paths.checkpoints, paths.final, paths.pids, paths.stop_file, paths.lock,
    ]  # fmt: skip
    for folder in (paths.checkpoints, paths.logs, paths.pids):
        if folder.is_dir() and not folder.is_symlink():
            parts.extend(sorted(folder.iterdir()))
    found = []
    for part in parts:
        if part.is_symlink() and not part.resolve().is_relative_to(base):
            found.append(f"{part.relative_to(paths.root)} -> {part.resolve()}")
    return found


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
