"""The child process of the GPU suite: runs the named parts one after another, each under its
own time box, and leaves one JSON file per part in OUT/parts/. run.py starts it (and starts it
again for the parts left when one overruns so far that it has to be killed).

    python bench/gpu/parts.py --out DIR --work DIR [--dry-run] PART[=BUDGET_S] ...
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import OutOfTime, Part, install_alarm, one_line, time_box  # noqa: E402

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


def part_functions() -> dict[str, Callable[[Part], None]]:
    import part_detect
    import part_ftui_run
    import part_memory
    import part_packing
    import part_throughput

    return {
        "detection": part_detect.run,
        "memory": part_memory.run,
        "throughput": part_throughput.run,
        "packing_attention": part_packing.run,
        "ftui_run": part_ftui_run.run,
    }


def run_part(name: str, fn: Callable[[Part], None], part: Part) -> None:
    started = time.monotonic()
    part.save("running", started=time.time())
    status, error = "ok", None
    try:
        with time_box(part.budget_s):
            fn(part)
    except OutOfTime:
        status, error = "timed_out", f"over its budget of {part.budget_s:.0f} s"
    except Exception as exc:  # a part's failure is recorded; the suite goes on
        traceback.print_exc()
        status, error = "failed", one_line(exc)
    part.save(status, error=error, wall_s=round(time.monotonic() - started, 2))
    print(f"[gpu-suite] {name}: {status} in {time.monotonic() - started:.1f} s", flush=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--work", type=Path, required=True)
    p.add_argument("--dry-run", action="store_true")
    p.add_argument("parts", nargs="+", help="NAME=BUDGET_S")
    args = p.parse_args(argv)
    os.environ["FTUI_HOME"] = str(args.work / "ftui_home")
    install_alarm()
    functions = part_functions()
    (args.out / "parts").mkdir(parents=True, exist_ok=True)
    for item in args.parts:
        name, _, budget = item.partition("=")
        part = Part(
            name, args.out / "parts" / f"{name}.json", args.dry_run, args.work, float(budget)
        )
        run_part(name, functions[name], part)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
