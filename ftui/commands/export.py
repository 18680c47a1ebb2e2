"""`ftui export RUN [--checkpoint N] [--merge] --out DIR [--push REPO]`."""

from __future__ import annotations

import argparse
import sys

from ftui.commands._common import fail


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="export a run's adapter or merged model (safetensors)")
    p.add_argument("run", metavar="RUN", help="a run directory")
    p.add_argument("--out", required=True, metavar="DIR", help="where to write it (new or empty)")
    p.add_argument("--checkpoint", type=int, metavar="N", help="checkpoint-N instead of final/")
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
    from ftui.core.export import ExportError, export_run, human_size

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
    kind = "merged model" if result.merged else "adapter"
    print(f"exported {kind} to {result.out}")
    for name, size in result.files:
        print(f"  {size:>12,d}  {name}")
    print(f"  total {human_size(result.total_bytes)}")
    for note in result.notes:
        print(f"note: {note}")
    if args.push:
        return _push(result, args.push, not args.public)
    return 0


def _push(result, repo: str, private: bool) -> int:  # type: ignore[no-untyped-def]
    from ftui.core.export import hub_token, human_size, push_to_hub

    token = hub_token()
    offline = _offline()
    if token is None or offline:
        why = (
            "HF_HUB_OFFLINE is set"
            if offline
            else "no Hugging Face token (run `hf auth login` or set HF_TOKEN)"
        )
        print(f"not pushed: {why}. Would upload to {repo} ({'private' if private else 'public'}):")
        for name, size in result.files:
            print(f"  {human_size(size):>10}  {name}")
        print(f"  total {human_size(result.total_bytes)}")
        return 0
    try:
        url = push_to_hub(result.out, repo, token, private=private)
    except Exception as exc:  # network, permissions: report, the export itself is fine
        return fail(f"--push {repo}: {str(exc).splitlines()[0]}")
    print(f"pushed to {url}")
    return 0


def _offline() -> bool:
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE)
