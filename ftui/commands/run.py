"""`ftui run`, `ftui validate`: preflight, launch, follow."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

from ftui.commands._common import add_spec_args, fail, load_spec_arg


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="preflight, launch torchrun, follow the run")
    add_spec_args(p)
    p.add_argument("--detach", action="store_true", help="print the run dir and return at once")
    p.add_argument("--skip-preflight", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(handler=cmd_run)
    v = sub.add_parser("validate", help="check a spec (schema + preflight) without training")
    add_spec_args(v)
    v.add_argument("--json", action="store_true", help="print the report as JSON")
    v.set_defaults(handler=cmd_validate)


def _load(args: argparse.Namespace) -> Any:
    from ftui.core.spec import SpecError

    try:
        return load_spec_arg(args)
    except SpecError as exc:
        return exc


def cmd_validate(args: argparse.Namespace) -> int:
    from ftui.core.check.preflight import preflight
    from ftui.core.spec import SpecError

    spec = _load(args)
    if isinstance(spec, SpecError):
        return fail(spec.problems)
    report = preflight(spec)
    if args.json:
        print(
            json.dumps(
                {
                    "ok": report.ok,
                    "errors": report.errors,
                    "warnings": report.warnings,
                    "stats": {k: v for k, v in report.stats.items() if k != "lengths"},
                },
                indent=2,
            )
        )
    else:
        for line in report.lines():
            print(line, file=sys.stderr if line.startswith("error") else sys.stdout)
        s = report.stats
        if report.ok:
            print(
                f"ok: {spec.name}: {s.get('total_rows', '?')} rows ({s.get('format')}), "
                f"{s.get('trained_tokens', 0)} of {s.get('tokens', 0)} tokens trained in the "
                f"first {s.get('rows', 0)} rows"
            )
    return 0 if report.ok else 2


def cmd_run(args: argparse.Namespace) -> int:
    from ftui.core.check.preflight import preflight
    from ftui.core.launch.spawn import launch
    from ftui.core.spec import SpecError
    from ftui.core.trackers import tracker_lines

    spec = _load(args)
    if isinstance(spec, SpecError):
        return fail(spec.problems)
    if not args.skip_preflight:
        report = preflight(spec)
        for line in report.lines(followed=report.ok and not args.detach):
            print(line, file=sys.stderr)
        if not report.ok:
            return 2
    run_dir = launch(spec)
    for line in tracker_lines(spec.train.report_to, run_dir, os.environ):
        print(f"report_to {line}", file=sys.stderr)  # stdout stays the run dir alone (--detach)
    if args.detach:
        print(run_dir)
        return 0
    return follow_launched(run_dir)


def follow_launched(run_dir: Path) -> int:
    """Follow a run this command launched (the same lines as `ftui monitor --plain`). Ctrl-C
    asks every rank to save and stop; a second Ctrl-C kills the run."""
    from ftui.core.launch.spawn import kill_run, request_stop
    from ftui.core.runs.follow import follow

    interrupts = 0

    def on_int(_sig: int, _frame: object) -> None:
        nonlocal interrupts
        interrupts += 1
        if interrupts > 1:
            print("\nkilling the run", file=sys.stderr)
            kill_run(run_dir, grace_s=5)
        elif request_stop(run_dir):
            print(
                "\nstopping: every rank saves a checkpoint, then exits (Ctrl-C again to kill)",
                file=sys.stderr,
            )

    old = signal.signal(signal.SIGINT, on_int)
    try:
        return follow(run_dir)
    finally:
        signal.signal(signal.SIGINT, old)
