"""`ftui export RUN [--checkpoint N] [--merge] [--gguf TYPE] --out DIR [--push REPO]`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ftui.commands._common import add_root_arg, checkpoint_arg, fail, resolve_run_arg
from ftui.core.runs.rundir import IN_RUN, RunPaths


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="export a run's adapter or merged model (safetensors)")
    p.add_argument("run", metavar="RUN", help="a run directory, or a run's name (or prefix)")
    add_root_arg(p)
    p.add_argument("--out", metavar="DIR", help="where to write it (new or empty)")
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
    p.add_argument(
        "--gguf",
        choices=["f16", "bf16", "q8_0"],
        help="also write a GGUF (llama.cpp / Ollama) of the merged model, in this type",
    )
    p.add_argument(
        "--llama-cpp",
        metavar="DIR",
        help="a llama.cpp checkout whose convert_hf_to_gguf.py makes the GGUF "
        "(default: the one `ftui fetch llama-cpp-converter` fetched)",
    )
    p.add_argument(
        "--check",
        action="store_true",
        help="run the probe prompts through the export's runtimes and compare with ftui chat "
        "(an existing export at --out, or RUN/export-merged, RUN/export, is checked as it is)",
    )
    p.add_argument("--push", metavar="REPO", help="upload to this Hugging Face repo (user/name)")
    p.add_argument("--public", action="store_true", help="with --push: a public repo")
    p.set_defaults(handler=cmd_export)


def existing_export(args: argparse.Namespace) -> Path | None:
    """With --check: the export to check as it is (at --out, or the screen's defaults)."""
    from ftui.core.playground.export import EXPORT_INFO

    if args.out:
        candidates = [Path(args.out)]
    else:
        candidates = [Path(args.run) / "export-merged", Path(args.run) / "export"]
    return next((c for c in candidates if (c / EXPORT_INFO).is_file()), None)


def run_check(folder: Path) -> int:
    from ftui.core.playground.parity import check_export

    print(f"checking {folder}", file=sys.stderr)
    try:
        report = check_export(folder)
    except (ValueError, OSError) as exc:
        return fail(str(exc))
    print("\n".join(report.lines()))
    return 0 if report.ok else 1


def cmd_export(args: argparse.Namespace) -> int:
    from ftui.core.playground.export import ExportError, export_run, export_summary

    if args.check and (folder := existing_export(args)) is not None:
        return run_check(folder)
    if not args.out:
        where = f"{args.run}/export-merged or {args.run}/export" if args.check else ""
        return fail(
            "--out DIR: where to write the export"
            + (f" (--check found no export at {where})" if where else "")
        )

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
            gguf=args.gguf,
            llama_cpp=args.llama_cpp,
        )
    except (ExportError, OSError) as exc:
        return fail(str(exc))
    lines = export_summary(result, args.push, private=not args.public)
    print("\n".join(lines))
    if lines[-1].startswith(f"push to {args.push} failed"):
        return 1
    return run_check(result.out) if args.check else 0
