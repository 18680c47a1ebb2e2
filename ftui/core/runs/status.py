"""Runs on disk and their status: derived from events.jsonl plus a live-process check.

Status is never taken from an exit code or from the events alone: a run whose last status is
not final and whose process (pid + start time, so a reused pid never counts) is gone failed.
"""

from __future__ import annotations

import difflib
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ftui.core.runs.checkpoints import newest_complete_checkpoint
from ftui.core.runs.events import MAX_LINE, TERMINAL_STATUSES
from ftui.core.runs.failures import failing_log
from ftui.core.runs.processes import is_process_alive, leftover_processes
from ftui.core.runs.rundir import IN_RUN, RunPaths, read_run_json

STALL_AFTER_S = 600.0
SUMMARY_KINDS = ("status", "metrics", "plan", "error")  # the latest of each is kept
MAX_TAIL_BYTES = 64 << 20  # the summary reads at most this much from the end of events.jsonl
MAX_SKIP_BYTES = 1 << 30  # ... plus this much of over-long lines (read past, never kept)


@dataclass(frozen=True)
class RunInfo:
    path: Path
    name: str
    status: str  # starting, running, stopping, completed, stopped, failed, unknown
    reason: str
    step: int | None
    total_steps: int | None
    started: float | None
    updated: float | None
    live: bool
    resumable: bool
    leftover_pids: tuple[int, ...] = ()  # left behind by a dead leader (processes.kill_leftovers)


class RunNotFound(LookupError):
    """No run (or several) answers to a name; `candidates` are the runs the message lists."""

    def __init__(self, message: str, candidates: list[str], ambiguous: bool = False):
        super().__init__(message)
        self.candidates = candidates
        self.ambiguous = ambiguous


def is_run_dir(path: Path) -> bool:
    return path.is_dir() and any(marker.exists() for marker in RunPaths(path).markers)


def _reverse_lines(
    path: Path, chunk: int = 1 << 16, max_line: int = MAX_LINE, budget: int | None = None
) -> Iterator[bytes | None]:
    """Lines of a file from the last to the first, reading backwards in chunks, in linear time:
    a line over `max_line` bytes yields None (skipped, never joined or parsed), and at most
    `budget` bytes of kept lines (default MAX_TAIL_BYTES) and MAX_SKIP_BYTES of skipped ones are
    read from the end."""
    budget = MAX_TAIL_BYTES if budget is None else budget
    with open(path, "rb") as fh:
        end = pos = fh.seek(0, os.SEEK_END)
        parts: list[bytes] = []  # the current line's pieces, the latest first
        size, skipping, skipped = 0, False, 0
        while pos > 0 and end - pos - skipped < budget and skipped < MAX_SKIP_BYTES:
            step = min(chunk, pos)
            pos -= step
            fh.seek(pos)
            lines = fh.read(step).split(b"\n")
            for piece in reversed(lines[1:]):  # each ends a line that starts at a newline
                if skipping or size + len(piece) > max_line:
                    skipped += size + len(piece) + 1
                    yield None
                else:
                    yield piece + b"".join(reversed(parts))
                parts, size, skipping = [], 0, False
            if skipping:  # lines[0] continues the line further back
                skipped += len(lines[0])
            else:
                size += len(lines[0])
                if size > max_line:
                    skipped += size
                    parts, size, skipping = [], 0, True
                else:
                    parts.append(lines[0])
        if pos == 0:
            yield None if skipping else b"".join(reversed(parts))


def _parse(line: bytes) -> dict[str, Any] | None:
    try:
        event = json.loads(line)
    except (ValueError, RecursionError):
        return None
    return event if isinstance(event, dict) else None


def summarise_events(run_dir: Path) -> dict[str, Any]:
    """The latest status, metrics and plan events and the first/last times, read from the end
    of events.jsonl; lines are only parsed when they may be one of the events still missing."""
    found: dict[str, Any] = {}
    wanted = {f'"{kind}"'.encode(): kind for kind in SUMMARY_KINDS}
    path = RunPaths(run_dir).events
    try:
        for line in _reverse_lines(path):
            if line is None:
                found["skipped_lines"] = found.get("skipped_lines", 0) + 1
                continue
            if not line.strip():
                continue
            if "last_t" not in found and (event := _parse(line)):
                found["last_t"] = event.get("t")
            for token, kind in list(wanted.items()):
                if token in line and (event := _parse(line)) and event.get("type") == kind:
                    found[kind] = event
                    del wanted[token]
            if not wanted:
                break
        with open(path, "rb") as fh:
            head = fh.read(MAX_LINE).split(b"\n")[:-1]  # whole lines of the first MiB
        first = _parse(head[0]) if head else None
        found["first_t"] = first.get("t") if first else None
        if "plan" not in found:  # written at the start: past the tail budget of a long run
            for line in head:
                if b'"plan"' in line and (event := _parse(line)) and event.get("type") == "plan":
                    found["plan"] = event
    except OSError:
        pass
    return found


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def fold_summary(summary: dict[str, Any], events: list[dict[str, Any]]) -> dict[str, Any]:
    """Update a summary (as summarise_events returns) with newer events, in place."""
    for event in events:
        kind = event.get("type")
        if kind in SUMMARY_KINDS:
            summary[kind] = event
        if "first_t" not in summary or summary["first_t"] is None:
            summary["first_t"] = event.get("t")
        summary["last_t"] = event.get("t")
    return summary


def run_status(
    run_dir: str | os.PathLike[str],
    events: list[dict[str, Any]] | None = None,
    summary: dict[str, Any] | None = None,
) -> RunInfo:
    """The status of one run. A reader that already has the events (or a summary kept up to
    date with fold_summary) passes them and the events file is not read again."""
    root = Path(run_dir)
    info = read_run_json(root)
    if summary is None:
        summary = fold_summary({}, events) if events is not None else summarise_events(root)
    status_event = summary.get("status") or {}
    status = str(status_event.get("status") or "")
    reason = str(status_event.get("reason") or "")
    pid = info.get("pid")
    live = is_process_alive(pid, info.get("pid_start_time"))
    if live and status in TERMINAL_STATUSES and _before_newest_attempt(status_event, info):
        status, reason = "starting", ""  # resumed: the old attempt's final status is history
    # Counted whatever the status says: ranks a killed launcher left behind go on training
    # after "failed" was written, and such a run is neither finished nor resumable.
    leftovers = [] if live else leftover_processes(root)
    if status not in TERMINAL_STATUSES and not live:
        if not pid and not summary:
            status = "unknown"
            reason = f"{IN_RUN.run_json} holds no process id: the launch did not finish"
        else:
            log = failing_log(root)
            where = str(IN_RUN.logs / log.name) if log else f"{IN_RUN.logs}/"
            status = "failed"
            reason = f"the training process exited without a final status; see {where}"
    elif not status:
        status = "starting"
    if leftovers:
        reason = "; ".join(
            part
            for part in (
                reason,
                f"{len(leftovers)} of its processes still run (`ftui stop RUN --kill` ends them)",
            )
            if part
        )
    resumable = (
        not live
        and not leftovers
        and status in ("stopped", "failed")
        and newest_complete_checkpoint(root, set_aside_incomplete=False) is not None
    )
    metrics = summary.get("metrics") or {}
    plan = summary.get("plan") or {}
    step, total = _number(metrics.get("step")), _number(plan.get("total_steps"))
    started = _number(info.get("started")) or _number(summary.get("first_t"))
    if skipped := summary.get("skipped_lines"):
        reason += f"{'; ' if reason else ''}{skipped} over-long line(s) in {IN_RUN.events} skipped"
    return RunInfo(
        path=root,
        name=root.name,
        status=status,
        reason=reason,
        step=int(step) if step is not None else None,
        total_steps=int(total) if total is not None else None,
        started=started,
        updated=_number(summary.get("last_t")),
        live=live,
        resumable=resumable,
        leftover_pids=tuple(leftovers),
    )


def _before_newest_attempt(status_event: dict[str, Any], info: dict[str, Any]) -> bool:
    """The status was written before the newest attempt (a resume) started."""
    attempts = info.get("attempts")
    newest = attempts[-1] if isinstance(attempts, list) and attempts else None
    started = _number(newest.get("started")) if isinstance(newest, dict) else None
    written = _number(status_event.get("t"))
    return started is not None and written is not None and written < started


ALREADY_COMPLETED = "{name} already completed; nothing to resume"
NO_CHECKPOINT = "{name} has no complete checkpoint to resume from"


def resume_refusal(info: RunInfo) -> str | None:
    """Why this run cannot be resumed, or None when it can: the monitor's `r` and
    `ftui resume` answer in the same words."""
    if info.live:
        return f"{info.name} is still running; stop it before resuming"
    if info.status == "completed":
        return ALREADY_COMPLETED.format(name=info.name)
    if info.leftover_pids:
        return (
            f"{info.name}'s launcher is gone but {len(info.leftover_pids)} of its processes "
            "still run; stop them first (s, or `ftui stop RUN --kill`)"
        )
    if not info.resumable:
        return NO_CHECKPOINT.format(name=info.name)
    return None


def list_runs(root: str | os.PathLike[str]) -> list[RunInfo]:
    """Every run directory directly under root, newest first."""
    base = Path(root)
    try:
        dirs = [p for p in base.iterdir() if is_run_dir(p)]
    except OSError:
        return []
    runs = []
    for path in dirs:
        run = run_status(path)
        if run.started is None:
            run = replace(run, started=path.stat().st_mtime)
        runs.append(run)
    return sorted(runs, key=lambda r: (r.started or 0.0, r.name), reverse=True)


def find_run(name_or_path: str | os.PathLike[str], root: str | os.PathLike[str]) -> Path:
    """A run directory from a path, an exact name under root, or a unique prefix of one; a
    path under root (`runs/demo-2026`) is looked up there by its last part. Every command
    that takes a RUN resolves it here."""
    given = Path(name_or_path).expanduser()
    if is_run_dir(given):
        return given
    base = Path(root)
    names = sorted(p.name for p in base.iterdir() if is_run_dir(p)) if base.is_dir() else []
    text = str(name_or_path)
    if _is_under(given, base):
        text = given.name
    if text in names:
        return base / text
    matches = [n for n in names if n.startswith(text)]
    if len(matches) == 1:
        return base / matches[0]
    if matches:
        raise RunNotFound(
            f"'{text}' matches {len(matches)} runs under {base}: " + ", ".join(matches),
            matches,
            ambiguous=True,
        )
    close = close_run_names(text, names)
    if close:
        listed = f"closest: {', '.join(close)}"
    else:
        listed = f"runs there: {', '.join(names[-10:])}" if names else "no runs there"
    raise RunNotFound(f"no such run '{name_or_path}' under {base}/ ({listed})", close or names)


def close_run_names(text: str, names: list[str], limit: int = 5) -> list[str]:
    """The run names that look like a mistyped `text`: compared with as much of each name as
    was typed, since a name is usually given as a prefix (demo for demo-20261124-080000)."""
    scored = []
    for name in names:
        ratio = difflib.SequenceMatcher(None, text, name[: max(len(text), 1)]).ratio()
        if ratio >= 0.6:
            scored.append((-ratio, name))
    return [name for _, name in sorted(scored)[:limit]]


def resolve_run_or_model(target: str, root: str | os.PathLike[str]) -> Path | str:
    """What `ftui chat TARGET` opens: an existing path (a run, a model directory, a .gguf), a
    run found by find_run, or else a model reference (hub id, builtin:) for the loader.
    Raises RunNotFound when no run answers and TARGET cannot be a model reference: a path
    that does not exist (absolute, ./, ~, more than owner/name, or under root) or a prefix of
    several runs."""
    path = Path(target).expanduser()
    if path.exists():
        return path
    try:
        return find_run(target, root)
    except RunNotFound as error:
        if error.ambiguous or _looks_like_path(target, Path(root)):
            raise
        return target


def _is_under(path: Path, root: Path) -> bool:
    return len(path.parts) > 1 and path.parent.absolute() == root.absolute()


def _looks_like_path(text: str, root: Path) -> bool:
    """A hub id is `name` or `owner/name`; anything else naming a file is a local path."""
    path = Path(text)
    return (
        text.startswith(("/", ".", "~"))
        or text.lower().endswith(".gguf")
        or len(path.parts) > 2
        or _is_under(path, root)
    )


def last_progress_time(events: list[dict[str, Any]]) -> float | None:
    """When the run last made a step (or began running, before its first step)."""
    for event in reversed(events):
        if event.get("type") == "metrics" or (
            event.get("type") == "status" and event.get("status") == "running"
        ):
            return _number(event.get("t"))
    return None


def is_stalled(
    info: RunInfo,
    events: list[dict[str, Any]],
    now: float | None = None,
    after_s: float = STALL_AFTER_S,
) -> bool:
    """A live, running run with no new step for after_s seconds."""
    if not info.live or info.status != "running":
        return False
    last = last_progress_time(events) or info.updated
    if last is None:
        return False
    return (time.time() if now is None else now) - last > after_s
