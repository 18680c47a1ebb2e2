"""Where each tracker of train.report_to writes, and the warning when one would upload
(ftui/core/trackers.py); the real runs that write there are in tests/train/test_tracker_runs.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from ftui.core.check.preflight import PreflightReport, check_trackers
from ftui.core.presets import resolve_spec
from ftui.core.trackers import tracker_env, tracker_lines, upload_lines

ALL = ["tensorboard", "trackio", "wandb", "mlflow"]
RUN = Path("/runs/demo-20260101-000000")


def test_the_defaults_put_every_tracker_in_the_run_dir_but_trackio() -> None:
    assert tracker_env(ALL, RUN) == {
        "TENSORBOARD_LOGGING_DIR": f"{RUN}/tensorboard",
        "WANDB_DIR": str(RUN),
        "WANDB_PROJECT": "ftui",
        "MLFLOW_TRACKING_URI": f"sqlite:///{RUN}/mlflow.db",
        "MLFLOW_EXPERIMENT_NAME": "ftui",
    }
    assert tracker_env(["tensorboard"], RUN) == {"TENSORBOARD_LOGGING_DIR": f"{RUN}/tensorboard"}
    assert tracker_env([], RUN) == {}


def test_the_lines_follow_the_users_own_settings() -> None:
    env = {
        "WANDB_MODE": "offline",
        "WANDB_DIR": "/scratch",
        "WANDB_PROJECT": "mine",
        "MLFLOW_TRACKING_URI": "file:/scratch/mlruns",
        "HF_HOME": "/hf",
    }
    lines = tracker_lines(ALL, RUN, env)
    assert lines == [
        f"tensorboard: {RUN}/tensorboard (view: tensorboard --logdir {RUN}/tensorboard)",
        f"trackio: local store /hf/trackio, project ftui, run {RUN.name} "
        "(view: trackio show --project ftui)",
        f"wandb: offline in /scratch/wandb/offline-run-*, project mine, run {RUN.name} "
        "(upload later: wandb sync /scratch/wandb/offline-run-*)",
        f"mlflow: file:/scratch/mlruns, experiment ftui, run {RUN.name} "
        "(view: mlflow ui --backend-store-uri file:/scratch/mlruns)",
    ]


def test_nothing_local_warns_of_an_upload() -> None:
    env = {"WANDB_MODE": "offline", "MLFLOW_TRACKING_URI": f"sqlite:///{RUN}/mlflow.db"}
    assert upload_lines(ALL, env) == []
    assert upload_lines(["tensorboard", "trackio"], {}) == []


def test_wandb_online_is_said_to_upload() -> None:
    (line,) = upload_lines(["wandb"], {})  # WANDB_MODE unset is online
    assert line.startswith("train.report_to: wandb uploads to https://api.wandb.ai as it trains")
    assert "WANDB_MODE=offline keeps it on this machine" in line
    (line,) = tracker_lines(["wandb"], RUN, {"WANDB_MODE": "online"})
    assert line.startswith("wandb: uploads to https://api.wandb.ai")


def test_an_upload_line_names_the_server_never_its_password_or_token() -> None:
    env = {
        "WANDB_BASE_URL": "https://me:pw-secret@wandb.example.org:8443/x?key=k-secret",
        "MLFLOW_TRACKING_URI": "https://me:pw-secret@mlflow.example.org/api?token=t-secret",
        "TRACKIO_SERVER_URL": "https://trackio.example.org/?write_token=w-secret",
    }
    lines = upload_lines(ALL, env) + tracker_lines(ALL, RUN, env)
    text = "\n".join(lines)
    assert "wandb uploads to https://wandb.example.org:8443 " in text
    assert "mlflow uploads to https://mlflow.example.org (MLFLOW_TRACKING_URI)" in text
    assert "trackio uploads to https://trackio.example.org (TRACKIO_SERVER_URL)" in text
    assert "secret" not in text and "me:" not in text
    (space,) = upload_lines(["trackio"], {"TRACKIO_SPACE_ID": "me/board"})
    assert "trackio uploads to me/board (TRACKIO_SPACE_ID); unset TRACKIO_SPACE_ID" in space
    (odd,) = upload_lines(["wandb"], {"WANDB_BASE_URL": "https://u:p-secret@h:port/"})
    assert "wandb uploads to https://h as it trains" in odd and "secret" not in odd
    (bucket,) = upload_lines(["trackio"], {"TRACKIO_BUCKET_ID": "me/bucket"})
    assert "trackio uploads to me/bucket (TRACKIO_BUCKET_ID)" in bucket


def test_preflight_warns_when_a_tracker_would_upload(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WANDB_MODE", raising=False)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "databricks")
    spec = resolve_spec("demo", ["train.report_to=wandb,mlflow"])
    report = PreflightReport()
    check_trackers(spec, report)
    warned = "\n".join(m for _, m in report.warnings)
    assert "train.report_to: wandb uploads to https://api.wandb.ai" in warned
    assert "train.report_to: mlflow uploads to databricks (MLFLOW_TRACKING_URI)" in warned
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    report = PreflightReport()
    check_trackers(spec, report)
    assert not [m for _, m in report.warnings if "uploads" in m]
