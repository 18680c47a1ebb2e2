"""`ftui chat RUN|MODEL [--prompt TEXT [--base]]`: one greedy answer without any UI."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ftui.commands._common import add_root_arg, checkpoint_arg, fail, runs_root
from ftui.core.runs.rundir import IN_RUN, RunPaths


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("chat", help="chat with a run's model (or any model)")
    p.add_argument(
        "target",
        metavar="RUN|MODEL",
        help="a run (directory, name or prefix, as `ftui monitor` takes it), a model "
        "directory, a .gguf file or a hub id",
    )
    add_root_arg(p)
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
    from ftui.core.runs.status import RunNotFound, resolve_run_or_model

    root = runs_root(args)
    try:
        target = resolve_run_or_model(args.target, root)
    except RunNotFound as error:
        return fail(str(error))
    if args.prompt is None:
        from ftui.tui.playground_app import run_playground

        return run_playground(target, base=args.base, checkpoint=args.checkpoint)
    from ftui.core.playground.inference import InferenceError, answer, load_chat_model

    try:
        cm = load_chat_model(target, base=args.base, checkpoint=args.checkpoint)
    except (InferenceError, OSError, ValueError) as exc:
        first = str(exc).splitlines()[0]
        if isinstance(target, str):  # neither a run nor a local path: say both
            first = f"no such run '{target}' under {root}/, and as a model: {first}"
        return fail(first)
    if cm.has_adapter or RunPaths(Path(target)).config.is_file():
        print(f"weights: {Path(cm.source).name}/", file=sys.stderr)  # best by eval loss, or final
    gen = {"temperature": 0.0}
    if args.max_new_tokens:
        gen["max_new_tokens"] = args.max_new_tokens
    print(answer(cm, args.prompt, system=args.system, **gen))
    return 0
