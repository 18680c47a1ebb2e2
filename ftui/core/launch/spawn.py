"""Launch a run: write the run directory, then start torchrun detached in its own session.

The process tree is: supervisor (session and group leader, pid in run.json) → torchrun → ranks.
stdin is /dev/null, output goes to logs/ files, never a pipe. Quitting the TUI never stops it.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ftui.core.atomic import atomic_write_text
from ftui.core.launch.critical import must_finish
from ftui.core.launch.torchrun import display_command, resolve_nproc, torchrun_argv
from ftui.core.quiet import unquiet
from ftui.core.runs.events import TERMINAL_STATUSES, append_event, last_status, read_events
from ftui.core.runs.processes import (
    all_run_processes,
    describe_process,
    end_run_processes,
    is_process_alive,
    kill_leftovers,
    lock_run,
    process_start_time,
    run_is_live,
    term_then_kill,
    wait_until,
)
from ftui.core.runs.rundir import IN_RUN, RunPaths, escaping_links, read_run_json, update_run_json
from ftui.core.runs.status import ALREADY_COMPLETED, NO_CHECKPOINT
from ftui.core.spec import RunSpec, SpecError, load_spec_file


class LaunchError(RuntimeError):
    pass


def planned_run_dir(spec: RunSpec, root: Path | None = None) -> Path:
    """runs/<name>-<timestamp>: the name a run launched now gets; nothing is created."""
    return Path(root or spec.output.root) / f"{spec.name}-{time.strftime('%Y%m%d-%H%M%S')}"


def new_run_dir(spec: RunSpec, root: Path | None = None) -> Path:
    """runs/<name>-<timestamp>[-k], created 0700 and never reused."""
    base = Path(root or spec.output.root)
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LaunchError(f"output.root: cannot create {base}: {exc.strerror}") from None
    first = planned_run_dir(spec, base)
    for k in range(1, 1000):
        path = first.with_name(first.name + (f"-{k}" if k > 1 else ""))
        try:
            path.mkdir(mode=0o700)
        except FileExistsError:
            continue
        os.chmod(path, 0o700)
        return path.resolve()
    raise LaunchError(f"output.root: cannot create a new run directory under {base}")


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in ("ftui", "torch", "transformers", "peft", "datasets", "accelerate"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            pass
    return out


# Where huggingface_hub (and tools around it) look for a token in the environment.
HUB_TOKEN_VARS = (
    "HF_TOKEN",
    "HUGGING_FACE_HUB_TOKEN",
    "HF_HUB_TOKEN",
    "HUGGINGFACE_TOKEN",
    "HUGGINGFACE_HUB_TOKEN",
    "HF_API_TOKEN",
)


def needs_hub(spec: RunSpec) -> bool:
    """The run may reach the hub: it is not offline, and its model or data is a hub id (not
    builtin:, not a local path or .gguf file) or trackio uploads its metrics to the hub."""
    from ftui.core.data.dataset import is_local_source
    from ftui.core.model.gguf import is_gguf_ref
    from ftui.core.model.hub import is_offline
    from ftui.core.trackers import needs_hub_login

    if is_offline():
        return False
    if needs_hub_login(spec.train.report_to, os.environ):
        return True
    model = spec.model.name_or_path
    local_model = (
        model.startswith(("builtin:", "/", ".", "~")) or is_gguf_ref(model) or Path(model).exists()
    )
    return not local_model or not is_local_source(spec.data.source)


def child_env(spec: RunSpec) -> dict[str, str]:
    """The run's environment: ours, without hub tokens unless the run needs the hub."""
    env = unquiet(dict(os.environ))  # the rank logs keep every library line
    if not needs_hub(spec):
        for name in HUB_TOKEN_VARS:
            env.pop(name, None)
    package_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    if spec.launch.gpus is not None:
        env["CUDA_VISIBLE_DEVICES"] = ",".join(str(g) for g in spec.launch.gpus)
    return env


def launch(spec: RunSpec, detach: bool = True, run_dir: Path | None = None) -> Path:
    """Write the run dir and start the run. Returns the run dir at once (the run goes on).

    A given run_dir must be new or empty: a run directory is only ever reused by resume()."""
    from ftui.core.launch.resume_key import resume_key

    root = _claim_run_dir(Path(run_dir)) if run_dir else new_run_dir(spec)
    paths = RunPaths(root)
    lock = _lock_quiet_run(paths, "a launch into it")
    try:
        paths.logs.mkdir(exist_ok=True, mode=0o700)
        spec.save(paths.config)
        nproc = resolve_nproc(spec)
        update_run_json(root, resume_key=resume_key(spec, nproc))
        argv = torchrun_argv(spec, str(paths.config), nproc_per_node=nproc)
        _spawn(paths, spec, argv, resume=False, lock=lock)
    finally:
        os.close(lock)
    return root


def _lock_quiet_run(paths: RunPaths, what: str) -> int:
    """Take the run's lock (its fd) and check that no process of the run lives; else refuse,
    naming them. The lock passes to the supervisor, so no second launch can slip in between."""
    name = paths.root.name
    lock = lock_run(paths.root)
    if lock is None:
        raise LaunchError(
            f"{name}: its supervisor still runs (it holds {IN_RUN.lock}); {what} is refused; "
            f"`ftui stop {name}` or `ftui stop {name} --kill` ends it"
        )
    pids = all_run_processes(paths.root)
    if pids:
        os.close(lock)
        shown = ", ".join(describe_process(pid) for pid in pids[:6])
        raise LaunchError(
            f"{name}: {len(pids)} of its processes still run ({shown}); {what} is refused "
            f"while they do: `ftui stop {name} --kill` ends them"
        )
    return lock


def _claim_run_dir(path: Path) -> Path:
    """Create path 0700, or accept it only when it exists and is empty; never a live or used one."""
    pids = all_run_processes(path) if path.is_dir() else []
    if pids:
        shown = ", ".join(describe_process(pid) for pid in pids[:6])
        raise LaunchError(
            f"{path} belongs to a live run (its processes still run: {shown}); a second "
            f"launch into it is refused: `ftui stop {path.name} --kill` ends them"
        )
    try:
        path.mkdir(mode=0o700, parents=True)
    except FileExistsError:
        if path.is_symlink() or not path.is_dir() or any(path.iterdir()):
            raise LaunchError(
                f"{path} already holds a run (or is not an empty directory); only "
                "`ftui resume` reuses a run directory: launch into a new one"
            ) from None
    os.chmod(path, 0o700)
    return path.resolve()


def _spawn(paths: RunPaths, spec: RunSpec, argv: list[str], resume: bool, lock: int) -> None:
    """Start the supervisor; it inherits the run's lock (fd `lock`) and holds it until it exits."""
    atomic_write_text(paths.command, display_command(argv) + "\n")
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW
    log = os.fdopen(os.open(paths.launcher_log, flags, 0o600), "ab")
    with must_finish():  # a quit of the TUI waits for the pid to be in run.json
        _start_supervisor(paths, spec, argv, log, lock, resume)


def _start_supervisor(
    paths: RunPaths, spec: RunSpec, argv: list[str], log: Any, lock: int, resume: bool
) -> None:
    full = [sys.executable, "-m", "ftui.core.launch.supervisor", str(paths.root), "--", *argv]
    try:
        proc = subprocess.Popen(
            full,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own session + process group: survives the terminal
            close_fds=True,
            pass_fds=(lock,),  # the flock goes with the open file: the supervisor now holds it
            cwd=str(paths.root),
            env=child_env(spec),
        )
    finally:
        log.close()
    info = read_run_json(paths.root)
    attempts = info.get("attempts", []) + [{"started": time.time(), "resume": resume}]
    update_run_json(
        paths.root,
        pid=proc.pid,
        pid_start_time=process_start_time(proc.pid),
        host=platform.node(),
        argv=argv,
        created=info.get("created", time.time()),
        versions=_versions(),
        attempts=attempts,
    )


def request_stop(run_dir: Path) -> bool:
    """Ask every rank to save and stop at the same step. False if the run is not live."""
    paths = RunPaths(Path(run_dir))
    if not run_is_live(paths.root):
        return False
    atomic_write_text(paths.stop_file, f"{time.time()}\n")
    return True


def kill_run(run_dir: Path, grace_s: float = 10.0) -> bool:
    """End the whole process tree: SIGTERM to the run's process group and its ranks, SIGKILL
    after grace_s, then wait until no member is left. Also ends ranks left behind by a
    supervisor that died. True if anything was running."""
    info = read_run_json(run_dir)
    pid, start = info.get("pid"), info.get("pid_start_time")
    if not isinstance(pid, int) or not is_process_alive(pid, start):
        return kill_leftovers(run_dir) > 0
    # The supervisor and torchrun (which forwards SIGTERM to the ranks) and the ranks themselves.
    end_run_processes(run_dir, pid, term_then_kill(grace_s))
    status = last_status(read_events(run_dir))
    if not status or status.get("status") not in TERMINAL_STATUSES:
        append_event(run_dir, "status", status="stopped", reason="killed by the user")
    return True


def resume(
    run_dir: Path,
    overrides: list[str] | None = None,
    on_warning: Callable[[str], None] | None = None,
) -> Path:
    """Relaunch a stopped or failed run in the same directory from its newest complete checkpoint.

    overrides (`key=value`) may change settings that do not invalidate the checkpoint; a change
    to the model, data, LoRA shape, effective batch or seed is refused with what changed, and
    changes to anything else (logging/eval/save cadence included) are passed to on_warning.
    Refused while any process of the run lives; config.yaml changes only once all checks pass."""
    paths = RunPaths(Path(run_dir).resolve())
    links = escaping_links(paths.root)
    if links:
        raise LaunchError(
            f"{paths.root.name}: {', '.join(links)} leads out of the run directory (a symbolic "
            "link); ftui reads and writes only inside it: replace the link with the real folder"
        )
    if run_is_live(paths.root):
        # Just stopped: the ranks have written their final status and are exiting.
        final = (last_status(read_events(paths.root)) or {}).get("status") in TERMINAL_STATUSES
        if not wait_until(lambda: not run_is_live(paths.root), 30.0 if final else 0.0, 0.1):
            raise LaunchError(f"{paths.root.name} is still running; stop it before resuming")
    lock = _lock_quiet_run(paths, "a resume")
    try:
        _resume_locked(paths, overrides, on_warning, lock)
    finally:
        os.close(lock)
    return paths.root


def _resume_locked(
    paths: RunPaths,
    overrides: list[str] | None,
    on_warning: Callable[[str], None] | None,
    lock: int,
) -> None:
    from ftui.core.launch.resume_key import compare, launch_fingerprint, resume_key
    from ftui.core.runs.checkpoints import newest_complete_checkpoint

    try:
        old_spec = load_spec_file(paths.config)
        spec = load_spec_file(paths.config, overrides or [])
    except SpecError as exc:
        raise LaunchError(f"{paths.config}: {exc}") from None
    status = last_status(read_events(paths.root)) or {}
    if status.get("status") == "completed":
        raise LaunchError(ALREADY_COMPLETED.format(name=paths.root.name))
    nproc = resolve_nproc(spec)
    old_key = launch_fingerprint(paths.root)
    if old_key is None:
        raise LaunchError(
            f"{paths.root.name}: its launch fingerprint is gone ({IN_RUN.run_json} and every "
            "checkpoint's marker lack it), so a resume cannot prove the settings still match "
            "its checkpoints; start a new run instead"
        )
    refusals, warnings = compare(old_key, resume_key(spec, nproc), old_spec, spec)
    if refusals:
        raise LaunchError(
            "; ".join(refusals)
            + " since the run was launched: its checkpoints belong to the old settings; "
            "start a new run instead"
        )
    if newest_complete_checkpoint(paths.root) is None:
        raise LaunchError(NO_CHECKPOINT.format(name=paths.root.name))
    for line in warnings:
        if on_warning:
            on_warning(line)
    # Only now, every check passed, may config.yaml change; the fingerprint goes back into
    # run.json, so the resumed run's checkpoints carry the launch's, not a new one.
    if spec != old_spec:
        spec.save(paths.config)
    update_run_json(paths.root, resume_key=old_key)
    paths.stop_file.unlink(missing_ok=True)
    argv = torchrun_argv(spec, str(paths.config), nproc_per_node=nproc, resume=True)
    _spawn(paths, spec, argv, resume=True, lock=lock)
