"""`ftui eval RUN [--tasks T,...] [--limit N] [--include-path DIR] [--checkpoint best|final|N]`:
lm-eval on the base model and the fine-tuned one (the optional `lm-eval` extra)."""

from __future__ import annotations

import argparse
import sys

from ftui.commands._common import add_root_arg, checkpoint_arg, fail, resolve_run_arg
from ftui.core.runs.benchmark import BATCH_SIZE, DEFAULT_LIMIT, DEFAULT_TASKS
from ftui.core.runs.rundir import IN_RUN, RunPaths


def limit_arg(text: str) -> float:
    """argparse type for --limit: samples a task (50), or a fraction of each task (0.1)."""
    if text.isdigit() and int(text) > 0:
        return int(text)
    try:
        fraction = float(text)
    except ValueError:
        fraction = 0.0
    if not 0 < fraction < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: a number of samples (50) or a fraction (0.1)")
    return fraction


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "eval", help="benchmark the base and the fine-tuned model with lm-eval (quick, --limit)"
    )
    p.add_argument("run", metavar="RUN", help="a run directory, or a run's name (or prefix)")
    add_root_arg(p)
    p.add_argument(
        "--tasks",
        default=",".join(DEFAULT_TASKS),
        help=f"lm-eval tasks, comma-separated (default: {','.join(DEFAULT_TASKS)}; hub tasks need the "
        "Hugging Face hub once, to fetch their data)",
    )
    p.add_argument(
        "--limit",
        type=limit_arg,
        default=DEFAULT_LIMIT,
        metavar="N",
        help=f"samples a task (default: {DEFAULT_LIMIT}), or a fraction of each (0.1)",
    )
    p.add_argument(
        "--include-path",
        metavar="DIR",
        help="a folder of task YAMLs of your own (e.g. dataset_path: json over a local file)",
    )
    p.add_argument(
        "--checkpoint",
        type=checkpoint_arg,
        metavar="best|final|N",
        help=f"which weights: best (the default: the lowest eval loss, else {IN_RUN.final}/), "
        f"{IN_RUN.final} ({IN_RUN.final}/) or N ({RunPaths.CHECKPOINT_PREFIX}N)",
    )
    p.add_argument(
        "--batch-size",
        type=int,
        default=BATCH_SIZE,
        metavar="N",
        help=f"lm-eval's batch size (default: {BATCH_SIZE})",
    )
    p.set_defaults(handler=cmd_eval)


def cmd_eval(args: argparse.Namespace) -> int:
    from ftui.core.playground.benchmark import BenchmarkError, run_benchmark
    from ftui.core.playground.inference import InferenceError
    from ftui.core.runs.benchmark import benchmark_lines

    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
    if not tasks:
        return fail("--tasks: name at least one lm-eval task (e.g. arc_easy)")
    run_dir = resolve_run_arg(args)
    if isinstance(run_dir, int):
        return run_dir

    def progress(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    try:
        record = run_benchmark(
            run_dir,
            tasks,
            limit=args.limit,
            include_path=args.include_path,
            checkpoint=args.checkpoint,
            batch_size=args.batch_size,
            progress=progress,
        )
    except (BenchmarkError, InferenceError, OSError) as exc:
        return fail(str(exc).splitlines()[0])
    print("\n".join(benchmark_lines(record)))
    print(f"written to {RunPaths(run_dir).lm_eval}", file=sys.stderr)
    return 0
