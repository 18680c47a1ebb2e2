"""train.report_to: where each tracker writes, and whether it uploads.

Where the environment names no place, ftui gives each tracker one in the run directory:
TensorBoard its tensorboard/, wandb its wandb/ (WANDB_DIR), MLflow the sqlite file mlflow.db
(MLFLOW_TRACKING_URI). trackio keeps its own local store (TRACKIO_DIR, by default in the
Hugging Face cache), so one `trackio show` sees every run. Each run is named after its
directory, in the project (wandb, trackio) or experiment (MLflow) `ftui`.

No key is read or passed here: each tracker finds its own (its login or the environment), and
a line shown to the user names a server by scheme and host only (a URL can carry a password or
a write token)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import urlsplit

from ftui.core.runs.rundir import RunPaths

PROJECT = "ftui"
# WANDB_MODE values that keep everything on this machine; anything else (online, unset) uploads.
WANDB_LOCAL_MODES = ("offline", "dryrun", "disabled")
WANDB_SERVER = "https://api.wandb.ai"
# What sends trackio's runs away: a Space or a storage bucket on the Hub (with the Hugging Face
# login), or a trackio server of one's own.
TRACKIO_HUB_UPLOADS = ("TRACKIO_SPACE_ID", "TRACKIO_BUCKET_ID")
TRACKIO_UPLOADS = (*TRACKIO_HUB_UPLOADS, "TRACKIO_SERVER_URL")
# MLflow tracking URIs that are files here (or a bare path); any other (http, https,
# databricks, databricks-uc) uploads.
MLFLOW_LOCAL_SCHEMES = ("file", "sqlite")
MLFLOW_REMOTE_NAMES = ("databricks", "uc")


def tracker_env(trackers: Sequence[str], run_root: Path) -> dict[str, str]:
    """The settings ftui gives the trackers, each applied only where the environment has none
    (the user's own WANDB_DIR, MLFLOW_TRACKING_URI... win)."""
    paths = RunPaths(run_root)
    env: dict[str, str] = {}
    if "tensorboard" in trackers:
        env["TENSORBOARD_LOGGING_DIR"] = str(paths.tensorboard)
    if "wandb" in trackers:
        env.update(WANDB_DIR=str(paths.root), WANDB_PROJECT=PROJECT)
    if "mlflow" in trackers:
        env.update(
            MLFLOW_TRACKING_URI=f"sqlite:///{paths.mlflow_db}", MLFLOW_EXPERIMENT_NAME=PROJECT
        )
    return env


def server(url: str) -> str:
    """A server as a line may show it: scheme://host[:port], never its user, password or query."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:  # not a number: leave it out
        port = ""
    if parts.scheme and host:
        return f"{parts.scheme}://{host}{port}"
    return url.split("?", 1)[0].rsplit("@", 1)[-1]  # `databricks`, `databricks-uc`


def _mlflow_local(uri: str) -> bool:
    scheme = urlsplit(uri).scheme
    return scheme in MLFLOW_LOCAL_SCHEMES or (
        not scheme and not uri.startswith(MLFLOW_REMOTE_NAMES)
    )


def _trackio_dir(env: Mapping[str, str]) -> str:
    """trackio's store: TRACKIO_DIR, else HF_HOME/trackio (huggingface_hub's HF_HOME rule)."""
    if env.get("TRACKIO_DIR"):
        return env["TRACKIO_DIR"]
    cache = env.get("XDG_CACHE_HOME") or os.path.join("~", ".cache")
    home = env.get("HF_HOME") or os.path.join(cache, "huggingface")
    return os.path.expanduser(os.path.join(home, "trackio"))


def uploads(trackers: Sequence[str], env: Mapping[str, str]) -> dict[str, str]:
    """Each tracker that would send the run's metrics and config off this machine: where to,
    and the setting that keeps it local (nobody uploads by surprise)."""
    out = {}
    if "wandb" in trackers and env.get("WANDB_MODE", "online").lower() not in WANDB_LOCAL_MODES:
        out["wandb"] = (
            f"uploads to {server(env.get('WANDB_BASE_URL', WANDB_SERVER))} as it trains "
            "(WANDB_MODE is not offline); WANDB_MODE=offline keeps it on this machine (upload "
            "later with `wandb sync`)"
        )
    uri = env.get("MLFLOW_TRACKING_URI", "")
    if "mlflow" in trackers and not _mlflow_local(uri):
        out["mlflow"] = (
            f"uploads to {server(uri)} (MLFLOW_TRACKING_URI); unset it to keep the run's "
            "mlflow.db on this machine"
        )
    for var in TRACKIO_UPLOADS:
        if "trackio" in trackers and env.get(var) and "trackio" not in out:
            shown = server(env[var]) if "://" in env[var] else env[var]
            out["trackio"] = f"uploads to {shown} ({var}); unset {var} to keep it local"
    return out


def needs_hub_login(trackers: Sequence[str], env: Mapping[str, str]) -> bool:
    """trackio uploads to the Hub (a Space, a bucket): the run needs the Hugging Face token."""
    return "trackio" in trackers and any(env.get(var) for var in TRACKIO_HUB_UPLOADS)


def upload_lines(trackers: Sequence[str], env: Mapping[str, str]) -> list[str]:
    """uploads() as preflight warnings."""
    return [f"train.report_to: {t} {text}" for t, text in uploads(trackers, env).items()]


def tracker_lines(trackers: Sequence[str], run_root: Path, environ: Mapping[str, str]) -> list[str]:
    """Where each tracker of a run writes (the environment the run starts with: environ, plus
    ftui's defaults where it has none), and how to look at it or upload it later."""
    env = {**tracker_env(trackers, run_root), **environ}
    name = run_root.name
    away = uploads(trackers, env)
    lines = []
    for tracker in trackers:
        if tracker in away:
            lines.append(f"{tracker}: {away[tracker]}")
        elif tracker == "tensorboard":
            logdir = env["TENSORBOARD_LOGGING_DIR"]
            lines.append(f"tensorboard: {logdir} (view: tensorboard --logdir {logdir})")
        elif tracker == "trackio":
            lines.append(
                f"trackio: local store {_trackio_dir(env)}, project {PROJECT}, run {name} "
                f"(view: trackio show --project {PROJECT})"
            )
        elif tracker == "wandb":
            folder = Path(env["WANDB_DIR"]) / "wandb"
            lines.append(
                f"wandb: offline in {folder}/offline-run-*, project {env['WANDB_PROJECT']}, run "
                f"{name} (upload later: wandb sync {folder}/offline-run-*)"
            )
        elif tracker == "mlflow":
            uri = env["MLFLOW_TRACKING_URI"]
            lines.append(
                f"mlflow: {uri}, experiment {env.get('MLFLOW_EXPERIMENT_NAME', PROJECT)}, run "
                f"{name} (view: mlflow ui --backend-store-uri {uri})"
            )
    return lines
