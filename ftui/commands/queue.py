"""`ftui queue add|list|run|rm` and `ftui sweep`: specs run one after another."""

from __future__ import annotations

import argparse
import sys

from ftui.commands._common import add_spec_args, fail


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("queue", help="queue specs to run one after another (e.g. overnight)")
    ps = p.add_subparsers(dest="queue_command", metavar="ACTION", required=True)
    add = ps.add_parser("add", help="queue SPEC (checked now, launched when its turn comes)")
    add_spec_args(add)
    add.set_defaults(handler=cmd_add)
    ps.add_parser("list", help="the queue: states, runs, eval losses, sweep ranks").set_defaults(
        handler=cmd_list
    )
    run = ps.add_parser("run", help="run what is pending, one after another")
    run.add_argument(
        "--detach", action="store_true", help="run the queue in the background and return"
    )
    run.set_defaults(handler=cmd_run)
    rm = ps.add_parser("rm", help="remove entry N (as `list` shows)")
    rm.add_argument("number", type=int, metavar="N")
    rm.set_defaults(handler=cmd_rm)

    sweep = sub.add_parser(
        "sweep",
        help="queue short trials over --set KEY=A,B,C values; ranked by eval loss",
        description="Each --set with a comma-separated value is swept (every combination is "
        "one trial); `ftui queue run --detach` runs them; `ftui sweep --results` ranks them.",
    )
    sweep.add_argument("spec", metavar="SPEC", nargs="?", help="a YAML file or a preset name")
    sweep.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=A,B,..."
    )
    sweep.add_argument("--max-steps", type=int, default=None, metavar="N", help="steps per trial")
    sweep.add_argument(
        "--results",
        nargs="?",
        const="",
        default=None,
        metavar="SWEEP",
        help="rank a sweep's trials (default: the latest sweep)",
    )
    sweep.set_defaults(handler=cmd_sweep)


def cmd_add(args: argparse.Namespace) -> int:
    from ftui.core.launch import queue
    from ftui.core.presets import resolve_spec
    from ftui.core.spec import SpecError

    try:
        spec = resolve_spec(args.spec, args.overrides)
        entry = queue.add(spec, " ".join([args.spec, *(f"--set {o}" for o in args.overrides)]))
    except (SpecError, queue.QueueError) as exc:
        return fail(getattr(exc, "problems", None) or str(exc))
    print(f"queued #{entry.id} {entry.label}; `ftui queue run --detach` runs the queue")
    return 0


def _loss(value: float | None) -> str:
    from ftui.core.runs.metrics import format_value

    return format_value(value)


def cmd_list(args: argparse.Namespace) -> int:
    from ftui.core.launch import queue, queue_runner, sweep

    try:
        items = queue.entries()
    except queue.QueueError as exc:
        return fail(str(exc))
    ranks = {}
    for sweep_id in dict.fromkeys(e.sweep for e in items if e.sweep):
        trials = sweep.ranked(sweep_id)
        for rank, entry in enumerate(trials, 1):
            if entry.eval_loss is not None:
                ranks[entry.id] = f"rank {rank}/{len(trials)}"
    if not items:
        print("the queue is empty: `ftui queue add SPEC` or `ftui sweep SPEC --set K=A,B`")
    for e in items:
        run = e.run_dir.rsplit("/", 1)[-1] if e.run_dir else "-"
        rank = f"  {ranks[e.id]}" if e.id in ranks else ""
        print(f"{e.id:>3}  {e.state:<10} {run:<32} eval {_loss(e.eval_loss):<8}{rank}  {e.label}")
        if e.reason and e.state not in ("pending", "running", "completed"):
            print(f"     {e.reason[:200]}")
    print(queue_runner.summary_line(items))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from ftui.core.launch import queue, queue_runner

    try:
        if args.detach:
            pid = queue_runner.start_detached()
            print(f"queue runner started (pid {pid}); log: {queue_runner.runner_log()}")
            return 0
        queue_runner.run_queue()
    except (queue_runner.QueueBusy, queue.QueueError) as exc:
        return fail(str(exc))
    except KeyboardInterrupt:
        print("\nstopped running the queue; the current run goes on", file=sys.stderr)
        return 130
    return 0


def cmd_rm(args: argparse.Namespace) -> int:
    from ftui.core.launch import queue

    try:
        entry = queue.remove(args.number)
    except queue.QueueError as exc:
        return fail(str(exc))
    print(f"removed #{entry.id} {entry.label}")
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    from ftui.core.launch import queue, sweep
    from ftui.core.spec import SpecError

    if args.results is not None:
        sweep_id = args.results or sweep.latest_sweep()
        if not sweep_id:
            return fail("no sweep in the queue: `ftui sweep SPEC --set KEY=A,B,...`")
        trials = sweep.ranked(sweep_id)
        if not trials:
            return fail(f"no sweep '{sweep_id}' in the queue")
        print(f"sweep {sweep_id}, by eval loss (lowest first):")
        for rank, e in enumerate(trials, 1):
            run = e.run_dir or "-"
            print(f"{rank:>3}. eval {_loss(e.eval_loss):<8} {e.state:<10} {e.label}  {run}")
        return 0
    if not args.spec:
        return fail("ftui sweep SPEC --set KEY=A,B,... (or --results)")
    try:
        sweep_id, entries = sweep.queue_sweep(args.spec, args.overrides, args.max_steps)
    except (SpecError, queue.QueueError) as exc:
        return fail(getattr(exc, "problems", None) or str(exc))
    for e in entries:
        print(f"queued #{e.id} {e.label}")
    print(
        f"sweep {sweep_id}: {len(entries)} trials; `ftui queue run --detach` runs them, "
        "`ftui sweep --results` ranks them"
    )
    return 0
