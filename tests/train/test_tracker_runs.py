"""train.report_to (issue 19): one real demo run reports to TensorBoard and to every other
tracker installed here (trackio into a local store, wandb offline, MLflow into the run's sqlite
file); each tracker's own reader gives back ftui's events.jsonl losses at the same steps, and
`ftui run` says where each one wrote. Preflight refuses a tracker that is not installed, naming
the extra."""

from __future__ import annotations

import importlib.util
import json
import os
import struct
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import run_ftui, wait_for_status

from ftui.core.runs.events import read_events
from ftui.core.runs.rundir import RunPaths

OTHERS = ("trackio", "wandb", "mlflow")
INSTALLED = [t for t in OTHERS if importlib.util.find_spec(t)]
STEPS = 6
# What could send the run elsewhere, or move ftui's defaults: none of it may leak in from here.
PLACES = (
    "WANDB_DIR",
    "WANDB_PROJECT",
    "WANDB_BASE_URL",
    "MLFLOW_TRACKING_URI",
    "MLFLOW_EXPERIMENT_NAME",
    "TENSORBOARD_LOGGING_DIR",
    "TRACKIO_SPACE_ID",
    "TRACKIO_SERVER_URL",
)


@dataclass
class TrackedRun:
    run: Path
    trackio_dir: Path
    env: dict[str, str]
    said: str  # what `ftui run` wrote to stderr

    def losses(self) -> dict[int, float]:
        return {e["step"]: e["loss"] for e in read_events(self.run) if e["type"] == "metrics"}


@pytest.fixture(scope="module")
def tracked(tmp_path_factory: pytest.TempPathFactory, demo_model: Path) -> Iterator[TrackedRun]:
    root = tmp_path_factory.mktemp("tracked")
    env = {k: v for k, v in os.environ.items() if k not in PLACES}
    env.update(WANDB_MODE="offline", TRACKIO_DIR=str(root / "trackio"), HF_HUB_OFFLINE="1")
    out = subprocess.run(
        [sys.executable, "-m", "ftui", "run", "demo", "--detach",
         "--set", f"output.root={root}",
         "--set", f"train.report_to={','.join(['tensorboard', *INSTALLED])}",
         "--set", f"train.max_steps={STEPS}",
         "--set", "train.logging_steps=1",
         "--set", "launch.nproc_per_node=1"],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    run = Path(out.stdout.strip().splitlines()[-1])
    assert wait_for_status(run)["status"] == "completed"
    yield TrackedRun(run, root / "trackio", env, out.stderr)


def _needs(tracker: str) -> None:
    if tracker not in INSTALLED:
        pytest.skip(f"{tracker} is not installed here (pip install 'ftui[{tracker}]')")


def _assert_same_losses(logged: dict[int, float], ours: dict[int, float]) -> None:
    assert sorted(logged) == sorted(ours) == list(range(1, STEPS + 1))
    for step, loss in ours.items():
        assert logged[step] == pytest.approx(loss, rel=1e-6), step


@pytest.mark.slow
def test_tensorboard_logs_the_losses_ftui_logs(tracked: TrackedRun) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    files = list(RunPaths(tracked.run).tensorboard.rglob("events.out.tfevents.*"))
    assert files, sorted(p.name for p in tracked.run.iterdir())
    board = EventAccumulator(str(files[0].parent))
    board.Reload()
    _assert_same_losses({s.step: s.value for s in board.Scalars("train/loss")}, tracked.losses())


@pytest.mark.slow
def test_trackio_logs_the_losses_ftui_logs_into_its_local_store(tracked: TrackedRun) -> None:
    _needs("trackio")
    # trackio reads TRACKIO_DIR when it is imported: its own reader, in the run's environment
    read = (
        "import json; from trackio.sqlite_storage import SQLiteStorage as S; "
        f"print(json.dumps([S.get_runs('ftui'), S.get_logs('ftui', {tracked.run.name!r})]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", read], env=tracked.env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    runs, logs = json.loads(out.stdout.strip().splitlines()[-1])
    assert runs == [tracked.run.name]
    assert (tracked.trackio_dir / "ftui.db").is_file()
    logged = {row["train/global_step"]: row["train/loss"] for row in logs if "train/loss" in row}
    _assert_same_losses(logged, tracked.losses())


def _wandb_records(path: Path) -> list:
    """The Records of a .wandb file, parsed with wandb's own protobuf messages (wandb has no
    Python reader of its own any more). The file is a LevelDB-style log: a 7-byte header
    (:W&B, magic, version), then 32 KiB blocks of chunks, each 7 bytes (crc32, length, type:
    1 full, 2 first, 3 middle, 4 last) and its data."""
    from wandb.proto import wandb_internal_pb2

    data = path.read_bytes()
    assert data[:4] == b":W&B", data[:7]
    records, pending, pos, block = [], b"", 7, 32768
    while pos + 7 <= len(data):
        if block - pos % block < 7:  # a block's tail too short for a header is padding
            pos += block - pos % block
            continue
        _crc, length, kind = struct.unpack("<IHB", data[pos : pos + 7])
        if kind == 0:
            break
        pending += data[pos + 7 : pos + 7 + length]
        pos += 7 + length
        if kind in (1, 4):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pending)
            records.append(record)
            pending = b""
    return records


@pytest.mark.slow
def test_wandb_offline_logs_the_losses_ftui_logs_into_the_run_dir(tracked: TrackedRun) -> None:
    _needs("wandb")
    files = list(RunPaths(tracked.run).wandb.glob("offline-run-*/run-*.wandb"))
    assert len(files) == 1, sorted(p.name for p in RunPaths(tracked.run).wandb.rglob("*"))
    records = _wandb_records(files[0])
    (run,) = [r.run for r in records if r.WhichOneof("record_type") == "run"]
    assert (run.project, run.display_name) == ("ftui", tracked.run.name)
    logged = {}
    for record in records:
        if record.WhichOneof("record_type") == "history":
            # "train/loss" is stored as the nested key ["train", "loss"]
            row = {
                item.key or "/".join(item.nested_key): json.loads(item.value_json)
                for item in record.history.item
            }
            if "train/loss" in row:
                logged[row["train/global_step"]] = row["train/loss"]
    _assert_same_losses(logged, tracked.losses())


@pytest.mark.slow
def test_mlflow_logs_the_losses_ftui_logs_into_the_run_dir(tracked: TrackedRun) -> None:
    _needs("mlflow")
    from mlflow.tracking import MlflowClient

    client = MlflowClient(f"sqlite:///{RunPaths(tracked.run).mlflow_db}")
    experiment = client.get_experiment_by_name("ftui")
    assert experiment is not None
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.run_name == tracked.run.name
    history = client.get_metric_history(run.info.run_id, "loss")
    _assert_same_losses({m.step: m.value for m in history}, tracked.losses())


@pytest.mark.slow
def test_ftui_run_says_where_each_tracker_wrote(tracked: TrackedRun) -> None:
    paths = RunPaths(tracked.run)
    said = tracked.said
    assert f"report_to tensorboard: {paths.tensorboard} " in said, said
    expected = {
        "trackio": f"report_to trackio: local store {tracked.trackio_dir}, project ftui, run "
        f"{tracked.run.name} (view: trackio show --project ftui)",
        "wandb": f"report_to wandb: offline in {paths.wandb}/offline-run-*, project ftui, run "
        f"{tracked.run.name} (upload later: wandb sync {paths.wandb}/offline-run-*)",
        "mlflow": f"report_to mlflow: sqlite:///{paths.mlflow_db}, experiment ftui, run "
        f"{tracked.run.name} (view: mlflow ui --backend-store-uri sqlite:///{paths.mlflow_db})",
    }
    for tracker in INSTALLED:
        assert expected[tracker] in said, said
    assert "uploads" not in said


def test_preflight_names_the_extra_of_a_missing_tracker(tmp_path: Path) -> None:
    missing = [t for t in OTHERS if not importlib.util.find_spec(t)]
    if not missing:
        pytest.skip("every tracker is installed here")
    out = run_ftui("validate", "demo", "--set", f"train.report_to={missing[0]}")
    assert out.returncode == 2
    assert f"train.report_to: {missing[0]} is not installed: pip install 'ftui[{missing[0]}]'" in (
        out.stderr
    )
