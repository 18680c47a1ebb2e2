"""`ftui export RUN [--checkpoint N] [--merge] --out DIR [--push REPO]`."""

from __future__ import annotations

import argparse
import sys

from ftui.commands._common import checkpoint_arg, fail
from ftui.core.runs.rundir import IN_RUN, RunPaths


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="export a run's adapter or merged model (safetensors)")
    p.add_argument("run", metavar="RUN", help="a run directory")
    p.add_argument("--out", required=True, metavar="DIR", help="where to write it (new or empty)")
    p.add_argument(
        "--checkpoint",
        type=checkpoint_arg,
        metavar="best|final|N",
        help=f"which weights: best (the default: the lowest eval loss, else {IN_RUN.final}/), "
        f"{IN_RUN.final} ({IN_RUN.final}/) or N ({RunPaths.CHECKPOINT_PREFIX}N)",
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

    try:
        result = export_run(
            args.run,
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
