"""`ftui run`, `ftui validate`: preflight, launch, follow."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
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

    spec = _load(args)
    if isinstance(spec, SpecError):
        return fail(spec.problems)
    if not args.skip_preflight:
        report = preflight(spec)
        for line in report.lines():
            print(line, file=sys.stderr)
        if not report.ok:
            return 2
    run_dir = launch(spec)
    if args.detach:
        print(run_dir)
        return 0
    print(f"run dir: {run_dir}")
    return follow(run_dir)


def _fmt_eta(seconds: float | None) -> str:
    if seconds is None or seconds != seconds or seconds < 0:
        return "--:--"
    m, s = divmod(int(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


def follow(run_dir: Path, poll_s: float = 0.5) -> int:
    """Print one progress line per metrics event until the run ends. Ctrl-C asks the run to
    stop and save; a second Ctrl-C kills it."""
    from ftui.core.launch.spawn import kill_run, request_stop
    from ftui.core.runs.events import TERMINAL_STATUSES, EventTail
    from ftui.core.runs.processes import run_is_live

    tail = EventTail(run_dir)
    total = None
    first: tuple[float, int] | None = None
    interrupts = 0
    started = time.time()

    def on_int(_sig: int, _frame: object) -> None:
        nonlocal interrupts
        interrupts += 1
        if interrupts == 1:
            request_stop(run_dir)
            print(
                "\nstopping: every rank saves a checkpoint, then exits (Ctrl-C again to kill)",
                file=sys.stderr,
            )
        else:
            kill_run(run_dir, grace_s=5)

    old = signal.signal(signal.SIGINT, on_int)
    try:
        while True:
            for ev in tail.poll():
                kind = ev.get("type")
                if kind == "plan":
                    total = ev.get("total_steps")
                    print(
                        f"plan: {total} steps, {ev.get('train_rows')} rows, "
                        f"world size {ev.get('world_size')}"
                    )
                elif kind == "metrics":
                    step = int(ev.get("step", 0))
                    if first is None:
                        first = (ev["t"], step)
                    eta = None
                    if total and first and step > first[1]:
                        rate = (ev["t"] - first[0]) / (step - first[1])
                        eta = rate * (total - step)
                    print(
                        f"step {step}/{total or '?'}  loss {ev.get('loss')}  "
                        f"{ev.get('tokens_per_s', 0):.0f} tok/s  eta {_fmt_eta(eta)}",
                        flush=True,
                    )
                elif kind == "checkpoint":
                    print(f"checkpoint: step {ev.get('step')}")
                elif kind == "error":
                    print(f"error: {ev.get('message')}\nhint: {ev.get('hint')}", file=sys.stderr)
                elif kind == "status":
                    status = ev.get("status")
                    if status in TERMINAL_STATUSES:
                        reason = f": {ev['reason']}" if ev.get("reason") else ""
                        print(f"{status}{reason} ({_fmt_eta(time.time() - started)})")
                        print(f"run dir: {run_dir}")
                        return {"completed": 0, "stopped": 0}.get(status, 1)
            if not run_is_live(run_dir) and not tail.poll():
                # The supervisor always writes a final status; give it a moment to land.
                time.sleep(poll_s)
                if not run_is_live(run_dir):
                    for ev in tail.poll():
                        if ev.get("type") == "status" and ev.get("status") in TERMINAL_STATUSES:
                            print(ev.get("status"))
                            return 0 if ev.get("status") != "failed" else 1
                    print("the run's process is gone without a final status", file=sys.stderr)
                    return 1
            time.sleep(poll_s)
    finally:
        signal.signal(signal.SIGINT, old)
