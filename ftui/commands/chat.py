"""`ftui chat RUN|MODEL [--prompt TEXT [--base]]`: one greedy answer without any UI."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ftui.commands._common import checkpoint_arg, fail
from ftui.core.runs.rundir import IN_RUN, RunPaths


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("chat", help="chat with a run's model (or any model)")
    p.add_argument("target", metavar="RUN|MODEL", help="a run directory or a model path / hub id")
    p.add_argument("--prompt", help="answer this one prompt (greedy) and exit, no UI")
    p.add_argument("--base", action="store_true", help="use the base model, without the adapter")
    p.add_argument(
        "--checkpoint",
        type=checkpoint_arg,
        metavar="best|final|N",
        help=f"which weights: best (the default: the lowest eval loss, else {IN_RUN.final}/), "
        f"{IN_RUN.final} ({IN_RUN.final}/) or N ({RunPaths.CHECKPOINT_PREFIX}N)",
    )
    p.add_argument("--system", help="system prompt")
    p.add_argument("--max-new-tokens", type=int)
    p.set_defaults(handler=cmd_chat)


def cmd_chat(args: argparse.Namespace) -> int:
    from ftui.core.playground.inference import InferenceError, answer, load_chat_model

    if args.prompt is None:
        from ftui.tui.playground_app import run_playground

        return run_playground(args.target, base=args.base, checkpoint=args.checkpoint)
    try:
        cm = load_chat_model(args.target, base=args.base, checkpoint=args.checkpoint)
    except (InferenceError, OSError, ValueError) as exc:
        return fail(str(exc).splitlines()[0])
    if cm.has_adapter or RunPaths(Path(args.target)).config.is_file():
        print(f"weights: {Path(cm.source).name}/", file=sys.stderr)  # best by eval loss, or final
    gen = {"temperature": 0.0}
    if args.max_new_tokens:
        gen["max_new_tokens"] = args.max_new_tokens
    print(answer(cm, args.prompt, system=args.system, **gen))
    return 0
