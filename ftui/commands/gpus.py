"""`ftui gpus`: the accelerators ftui sees (NVML, ROCm, Apple MPS) or what no GPU means."""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("gpus", help="detected accelerators")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_gpus)


def cmd_gpus(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from ftui.core.hardware import detect_hardware, idle_gpus
    from ftui.core.units import human_bytes

    report = detect_hardware()
    if args.json:
        print(json.dumps(asdict(report), indent=2))
        return 0
    print(
        f"backend: {report.backend}   CPUs: {report.cpu_count}   RAM: {human_bytes(report.ram_total)}"
    )
    idle = set(idle_gpus(report))
    for g in report.gpus:
        util = f"{g.utilization}%" if g.utilization is not None else "-"
        mark = "idle" if g.index in idle else "busy"
        print(
            f"  [{g.index}] {g.name:28} {human_bytes(g.memory_free)} free of {human_bytes(g.memory_total)}  "
            f"util {util:>4}  {mark}  driver {g.driver or '-'}  CUDA {g.cuda or '-'}"
        )
    if report.notice:
        print(report.notice)
    print(
        f"bf16: {'yes' if report.bf16_supported else 'no'}   "
        f"8-bit/4-bit (bitsandbytes): {'yes' if report.bitsandbytes else 'no'}"
    )
    return 0
