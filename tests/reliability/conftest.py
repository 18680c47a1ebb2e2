"""Shared pieces for the reliability tests: short real demo runs and a killed run to resume.

Runs are the real thing (launcher → supervisor → torchrun → worker) on the demo model; they are
kept short (max_steps, one rank where two add nothing) so the folder runs in a few minutes.
"""

from __future__ import annotations

import os
import pty
import re
import secrets
import select
import shutil
import sys
import time
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import pytest

# The root tests/conftest.py is module "conftest" (this folder is a package, so this file is
# "reliability.conftest" and never shadows it).
from conftest import wait_for_status  # noqa: E402,I001

from ftui.core.launch.spawn import HUB_TOKEN_VARS
from ftui.core.runs.events import TERMINAL_STATUSES, last_status, read_events
from ftui.core.runs.processes import run_is_live, wait_until
from ftui.core.runs.rundir import read_run_json

from .reltools import demo_spec, wait_for_event

SENTINEL = "hf_SENTINEL" + secrets.token_hex(16)
# The environment variables the trackers (train.report_to) read their keys from (trackio's
# Hugging Face login is HF_TOKEN's, which the run has too).
TRACKER_KEYS = (
    "WANDB_API_KEY",
    "MLFLOW_TRACKING_TOKEN",
    "MLFLOW_TRACKING_PASSWORD",
    "TRACKIO_WRITE_TOKEN",
)
# MLFLOW_TRACKING_USERNAME is a name, not a key: MLflow records it as the run's user (its
# mlflow.user tag), so it has its own value, allowed in mlflow.db only.
MLFLOW_USER = "mlflow-user-" + secrets.token_hex(8)
# Every tracker installed here reports, locally: TensorBoard, trackio into its store below,
# wandb offline and MLflow into the run dir (ftui's defaults, so none of their settings pass).
TRACKERS = ["tensorboard", *(t for t in ("trackio", "wandb", "mlflow") if find_spec(t))]
TRACKER_PLACES = (
    "WANDB_DIR",
    "WANDB_BASE_URL",
    "MLFLOW_TRACKING_URI",
    "TRACKIO_SPACE_ID",
    "TRACKIO_SERVER_URL",
)


@dataclass
class PtyRun:
    root: Path
    hf_home: Path
    trackio_dir: Path
    run_dir: Path | None = None
    terminal_output: str = ""
    # pid -> {"cmdline": [...], "fds": {0: target, 1: target, 2: target}, "token_in_env": bool}
    processes: dict[int, dict[str, Any]] = field(default_factory=dict)
    live_when_closed: bool = False
    launcher_exit: int | None = None  # waitpid status; None if it did not exit
    status: dict[str, Any] = field(default_factory=dict)


def _read_run_dir(master: int, result: PtyRun, timeout: float = 180) -> Path:
    deadline = time.time() + timeout
    while time.time() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            result.terminal_output += chunk.decode("utf-8", "replace")
            found = re.search(r"run dir: (\S+)", result.terminal_output)
            if found:
                return Path(found.group(1))
    raise AssertionError(f"no run dir printed; terminal said: {result.terminal_output[-2000:]}")


def _descendants(root: int) -> list[int]:
    """root and every live process below it (torchrun starts ranks in their own sessions, so
    the process group alone would miss them)."""
    parent: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_bytes().rsplit(b")", 1)[-1].split()
            except OSError:
                continue
            if len(fields) > 2 and fields[0] not in (b"Z", b"X"):
                parent[int(entry.name)] = int(fields[1])
    found, frontier = [], [root]
    while frontier:
        pid = frontier.pop()
        if pid in parent:
            found.append(pid)
            frontier.extend(child for child, ppid in parent.items() if ppid == pid)
    return found


def _snapshot(pid: int) -> dict[str, Any] | None:
    try:
        cmdline = (Path(f"/proc/{pid}/cmdline").read_bytes()).split(b"\0")
        fds = {n: os.readlink(f"/proc/{pid}/fd/{n}") for n in (0, 1, 2)}
        environ = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return None
    return {
        "cmdline": [c.decode("utf-8", "replace") for c in cmdline if c],
        "fds": fds,
        # a hub token variable holding the sentinel (the trackers' keys may pass: they read
        # them from the environment)
        "token_in_env": any(
            entry.split(b"=", 1)[0].decode("utf-8", "replace") in HUB_TOKEN_VARS
            and SENTINEL.encode() in entry
            for entry in environ.split(b"\0")
        ),
    }


def _watch_group(run_dir: Path, master: int, result: PtyRun, timeout: float = 180) -> None:
    """Record every process of the run's tree until both ranks have been seen with their
    own log files as output (the worker redirects right after it starts)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if select.select([master], [], [], 0)[0]:
            try:
                result.terminal_output += os.read(master, 65536).decode("utf-8", "replace")
            except OSError:
                pass
        leader = read_run_json(run_dir).get("pid")
        if leader:
            for pid in _descendants(int(leader)):
                snap = _snapshot(pid)
                if snap:
                    result.processes[pid] = snap
        ranks = [
            p for p in result.processes.values()
            if "ftui.train" in p["cmdline"] and p["fds"][1].endswith(".log")
            and "/logs/rank" in p["fds"][1]
        ]  # fmt: skip
        if len(ranks) >= 2:
            return
        status = last_status(read_events(run_dir)) or {}
        if status.get("status") in TERMINAL_STATUSES:
            break
        time.sleep(0.05)
    raise AssertionError(f"never saw both ranks: {result.processes}")


def _wait_pid(pid: int, timeout: float) -> int | None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        time.sleep(0.1)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    return None


@pytest.fixture
def own_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, demo_model: Path) -> Path:
    """An FTUI_HOME of the test's own (its own config, queue) sharing the demo model's cache."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "cache").symlink_to(Path(os.environ["FTUI_HOME"]) / "cache")
    monkeypatch.setenv("FTUI_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def local_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo data as a local file, so a test can edit it (the data fingerprint must see it)."""
    from ftui.core import locations

    folder = tmp_path_factory.mktemp("data")
    target = folder / "qa.jsonl"
    shutil.copy(locations.package_data_dir() / "demo_qa.jsonl", target)
    return target


@pytest.fixture(scope="session")
def killed_run(
    tmp_path_factory: pytest.TempPathFactory, demo_model: Path, local_data: Path
) -> Path:
    """A real run killed after its second checkpoint: resumable, with complete checkpoints.
    Its max_steps is far away so the kill always lands first; a resume passes
    --set train.max_steps=20 to finish soon. Tests copy it before resuming (copy_run)."""
    from ftui.core.launch.spawn import kill_run, launch

    root = tmp_path_factory.mktemp("killed")
    spec = demo_spec(
        root,
        f"data.source={local_data}",
        "train.max_steps=1000",
        "train.save_steps=5",
        "train.save_total_limit=3",
        "launch.nproc_per_node=1",
    )
    run_dir = launch(spec)
    wait_for_event(run_dir, lambda e: e.get("type") == "checkpoint" and e["step"] >= 10)
    kill_run(run_dir, grace_s=5)
    status = wait_for_status(run_dir, timeout=30)
    assert status["status"] != "completed", "the run finished before it could be killed"
    return run_dir


@pytest.fixture(scope="session")
def pty_run(tmp_path_factory: pytest.TempPathFactory, demo_model: Path) -> PtyRun:
    """`ftui run demo` (2 ranks, reporting to every tracker installed) started inside a pseudo-terminal with
    HF_TOKEN, the trackers' keys and a notification URL all holding a sentinel.
    While the run is live every process of its group is recorded (fds, command line); then the
    terminal is closed, which ends the launching process, and the run must finish on its own."""
    from ftui.core.launch.spawn import kill_run

    base = tmp_path_factory.mktemp("pty")
    result = PtyRun(root=base / "runs", hf_home=base / "hf-home", trackio_dir=base / "trackio")
    result.hf_home.mkdir()
    # Its own FTUI_HOME (sharing the demo model's cache) with a notification URL that holds the
    # sentinel too: nothing of the run may hold that secret either. Port 9 refuses: the failed
    # sending is logged, without the URL.
    ftui_home = base / "ftui-home"
    ftui_home.mkdir()
    (ftui_home / "cache").symlink_to(Path(os.environ["FTUI_HOME"]) / "cache")
    (ftui_home / "config").mkdir()
    (ftui_home / "config" / "notify.yaml").write_text(f"urls: [json://127.0.0.1:9/{SENTINEL}]\n")
    env = {
        **{k: v for k, v in os.environ.items() if k not in TRACKER_PLACES},
        "HF_TOKEN": SENTINEL,
        "HF_HOME": str(result.hf_home),
        "FTUI_HOME": str(ftui_home),
        # the trackers' keys live in the environment too; the run reports to every tracker
        **{key: SENTINEL for key in TRACKER_KEYS},
        "MLFLOW_TRACKING_USERNAME": MLFLOW_USER,
        "WANDB_MODE": "offline",
        "TRACKIO_DIR": str(result.trackio_dir),
    }
    argv = [
        sys.executable, "-m", "ftui", "run", "demo",
        "--set", f"output.root={result.root}",
        "--set", "train.max_steps=60",
        "--set", "train.save_steps=20",
        "--set", f"train.report_to={','.join(TRACKERS)}",
    ]  # fmt: skip
    pid, master = pty.fork()
    if pid == 0:  # the child: the launcher, with the pty as its controlling terminal
        try:
            os.execve(sys.executable, argv, env)
        finally:
            os._exit(127)
    try:
        run_dir = _read_run_dir(master, result)
        result.run_dir = run_dir
        _watch_group(run_dir, master, result)
        result.live_when_closed = run_is_live(run_dir)
    finally:
        os.close(master)  # the terminal goes away: the launcher gets SIGHUP
    result.launcher_exit = _wait_pid(pid, 20)
    if result.run_dir is not None:
        try:
            result.status = wait_for_status(result.run_dir, timeout=240)
            # after its final status the supervisor still sends the notification: let it end
            wait_until(lambda: not run_is_live(result.run_dir), 60, 0.2)
        finally:
            if run_is_live(result.run_dir):
                kill_run(result.run_dir, grace_s=2)
    return result
