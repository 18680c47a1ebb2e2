"""`ftui probe SPEC`: a few real steps at max_seq_len, then batch size, accumulation and ETA."""

from __future__ import annotations

import argparse
import json

from ftui.commands._common import add_spec_args, fail, load_spec_arg


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("probe", help="measure peak memory and tokens/s with a few real steps")
    add_spec_args(p)
    p.add_argument("--steps", type=int, default=3, help="training steps to measure (default 3)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_probe)


def _free_bytes(spec) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """(free memory of the device the run uses, processes per node)."""
    from ftui.core.hardware import detect_hardware
    from ftui.core.launch.torchrun import resolve_nproc

    report = detect_hardware()
    chosen = [g for g in report.gpus if spec.launch.gpus is None or g.index in spec.launch.gpus]
    if chosen:
        return min(g.memory_free for g in chosen), resolve_nproc(spec, len(chosen))
    return report.ram_available, resolve_nproc(spec, 0)


def cmd_probe(args: argparse.Namespace) -> int:
    from ftui.core.check.probe import ProbeError, advise, run_probe
    from ftui.core.spec import SpecError

    try:
        spec = load_spec_arg(args)
    except SpecError as exc:
        return fail(exc.problems)
    print(
        f"probing {spec.name}: {args.steps} steps of batch {spec.train.per_device_batch_size} "
        f"x {spec.data.max_seq_len} tokens ...",
        flush=True,
    )
    try:
        result = run_probe(spec, steps=args.steps)
    except ProbeError as exc:
        return fail(str(exc))
    free, world = _free_bytes(spec)
    advice = advise(spec, result, free, world)
    if args.json:
        print(json.dumps({"result": result.__dict__, "advice": advice.__dict__}, indent=2))
    else:
        m, s = divmod(int(advice.eta_s), 60)
        print(advice.message)
        print(f"ETA for the whole run: {m // 60}:{m % 60:02d}:{s:02d}")
    return 0 if advice.fits else 1
