"""`ftui export RUN [--checkpoint N] [--merge] --out DIR [--push REPO]`."""

from __future__ import annotations

import argparse
import sys

from ftui.commands._common import add_root_arg, fail, resolve_run_arg
from ftui.core.runs.rundir import IN_RUN, RunPaths


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="export a run's adapter or merged model (safetensors)")
    p.add_argument("run", metavar="RUN", help="a run directory, or a run's name (or prefix)")
    add_root_arg(p)
    p.add_argument("--out", required=True, metavar="DIR", help="where to write it (new or empty)")
    p.add_argument(
        "--checkpoint",
        type=int,
        metavar="N",
        help=f"{RunPaths.CHECKPOINT_PREFIX}N instead of {IN_RUN.final}/",
    )
    p.add_argument("--merge", action="store_true", help="merge the adapter into the base model")
    p.add_argument(
        "--base-dtype",
        choices=["bf16", "fp16", "fp32"],
        help="reload the base in this dtype before merging (needed for 8bit/4bit runs)",
    )
    p.add_argument("--push", metavar="REPO", help="upload to this Hugging Face repo (user/name)")
    p.add_argument("--public", action="store_true", help="with --push: a public repo")
    p.set_defaults(handler=cmd_export)


def cmd_export(args: argparse.Namespace) -> int:
    from ftui.core.playground.export import ExportError, export_run, export_summary

    def progress(label: str, fraction: float) -> None:
        print(f"[{fraction * 100:3.0f}%] {label}", file=sys.stderr)

    run_dir = resolve_run_arg(args)
    if isinstance(run_dir, int):
        return run_dir
    try:
        result = export_run(
            run_dir,
            args.out,
            checkpoint=args.checkpoint,
            merge=args.merge,
            base_dtype=args.base_dtype,
            progress=progress,
        )
    except (ExportError, OSError) as exc:
        return fail(str(exc))
    lines = export_summary(result, args.push, private=not args.public)
    print("\n".join(lines))
    return 1 if lines[-1].startswith(f"push to {args.push} failed") else 0
