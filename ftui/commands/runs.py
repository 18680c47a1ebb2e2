"""Run lifecycle commands: `ftui runs`, `ftui monitor`, `ftui stop`, `ftui resume`."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from ftui.commands._common import add_root_arg, fail, resolve_run_arg, runs_root


def register(sub: argparse._SubParsersAction) -> None:
    runs = sub.add_parser("runs", help="list runs with their status")
    add_root_arg(runs)
    runs.add_argument("--json", action="store_true", help="one JSON object per run")
    runs.add_argument("--ui", action="store_true", help="open the runs screen")
    runs.set_defaults(handler=cmd_runs)

    monitor = sub.add_parser("monitor", help="watch a run live (it keeps training when you quit)")
    monitor.add_argument(
        "run", nargs="?", metavar="RUN", help="run dir or name prefix; default: newest"
    )
    add_root_arg(monitor)
    monitor.add_argument(
        "--plain",
        action="store_true",
        help="print progress lines without the UI until the run ends",
    )
    monitor.add_argument(
        "--stall-after",
        type=float,
        default=600.0,
        metavar="SECONDS",
        help="flag the run as stalled after this long without a new step (default: 600)",
    )
    monitor.set_defaults(handler=cmd_monitor)

    stop = sub.add_parser("stop", help="ask a run to save a checkpoint and stop")
    stop.add_argument("run", metavar="RUN")
    add_root_arg(stop)
    stop.add_argument("--kill", action="store_true", help="kill the whole process tree now")
    stop.add_argument(
        "--grace", type=float, default=10.0, help="seconds between SIGTERM and SIGKILL"
    )
    stop.set_defaults(handler=cmd_stop)

    resume = sub.add_parser("resume", help="continue a run from its newest complete checkpoint")
    resume.add_argument("run", metavar="RUN")
    resume.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="change a setting that does not invalidate the checkpoint (e.g. train.max_steps=600)",
    )
    add_root_arg(resume)
    resume.set_defaults(handler=cmd_resume)


def cmd_runs(args: argparse.Namespace) -> int:
    from ftui.core.runs.status import list_runs

    if args.ui:
        from ftui.tui.monitor_app import RunsApp
        from ftui.tui.run_app import run_until_quit

        run_until_quit(RunsApp(runs_root(args)))
        return 0
    from ftui.core.runs.eval_card import best_marker

    runs = list_runs(runs_root(args))
    if args.json:
        for info in runs:
            print(
                json.dumps({**asdict(info), "path": str(info.path), "best": best_marker(info.path)})
            )
        return 0
    if not runs:
        print(f"no runs under {runs_root(args)}/")
        _print_queue()
        return 0
    width = max(len(r.name) for r in runs)
    for info in runs:
        status = info.status + (" (live)" if info.live else "")
        status += ", resumable" if info.resumable else ""
        step = f"{info.step}/{info.total_steps or '?'}" if info.step is not None else "-"
        best = best_marker(info.path)
        line = (
            f"{info.name:<{width}}  {status:<22} {step:>11}  {f'best {best}' if best else '':<15}"
        )
        print(f"{line}  {info.reason}".rstrip())
    _print_queue()
    return 0


def _print_queue() -> None:
    """The run queue's state under the list, when there is a queue (`ftui queue`)."""
    from ftui.core.launch import queue, queue_runner

    try:
        items = queue.entries()
    except queue.QueueError as exc:
        print(f"queue: {exc}")
        return
    if items or queue_runner.live_runner():
        print(queue_runner.summary_line(items))


def cmd_monitor(args: argparse.Namespace) -> int:
    run_dir = resolve_run_arg(args)
    if isinstance(run_dir, int):
        return run_dir
    if args.plain:
        return follow_plain(run_dir, args.stall_after)
    from ftui.tui.monitor_app import MonitorApp
    from ftui.tui.run_app import run_until_quit

    run_until_quit(MonitorApp(run_dir, stall_after_s=args.stall_after))
    return 0


def follow_plain(run_dir: Path, stall_after_s: float) -> int:
    """`ftui monitor --plain`: the run's lines until it ends. Ctrl-C only stops watching."""
    from ftui.core.runs.follow import follow

    try:
        return follow(run_dir, stall_after_s=stall_after_s)
    except KeyboardInterrupt:
        print(
            f"\nstopped watching; {run_dir.name} goes on (`ftui monitor {run_dir.name}` to watch"
            f" again, `ftui stop {run_dir.name}` to stop it)",
            file=sys.stderr,
        )
        return 130


def cmd_stop(args: argparse.Namespace) -> int:
    from ftui.core.launch.spawn import kill_run, request_stop
    from ftui.core.runs.processes import kill_leftovers
    from ftui.core.runs.status import run_status

    run_dir = resolve_run_arg(args)
    if isinstance(run_dir, int):
        return run_dir
    info = run_status(run_dir)
    if not info.live and info.leftover_pids:
        if not args.kill:
            return fail(
                f"{info.name}'s launcher is gone but {len(info.leftover_pids)} of its processes"
                " still run; `--kill` ends them",
                code=1,
            )
        count = kill_leftovers(run_dir)
        print(f"killed the {count} processes left behind by {info.name}")
        return 0
    if not info.live:
        return fail(f"{info.name} is not running (status: {info.status})", code=1)
    if args.kill:
        kill_run(run_dir, grace_s=args.grace)
        print(f"killed {info.name}: its whole process tree is gone")
        return 0
    request_stop(run_dir)
    print(
        f"asked {info.name} to save a checkpoint and stop; `ftui stop {info.name} --kill` ends it now"
    )
    return 0


def cmd_resume(args: argparse.Namespace) -> int:
    run_dir = resolve_run_arg(args)
    if isinstance(run_dir, int):
        return run_dir
    from ftui.core.launch.spawn import resume

    try:
        resume(
            run_dir,
            overrides=args.overrides,
            on_warning=lambda line: print(f"warning: {line}", file=sys.stderr),
        )
    except Exception as error:
        return fail(f"cannot resume {run_dir.name}: {error}")
    print(f"resumed {run_dir.name}; watch it with: ftui monitor {run_dir.name}")
    return 0
