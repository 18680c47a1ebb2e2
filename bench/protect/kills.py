"""Kill storm: attack N real demo runs and check that ftui tells the truth and never lets two
trainings share one run directory.

    PYTHONPATH=. HF_HUB_OFFLINE=1 python bench/protect/kills.py --runs 6 [--root DIR] [--seed 0]

Each run is `ftui run demo --detach` (two ranks through torchrun, a checkpoint every 10 steps,
600 steps away from its end). Once it trains, one attack from ATTACKS hits it (SIGKILL or
SIGSTOP of a rank, of torchrun or of the supervisor, some in the middle of a checkpoint save).
Then, for each run:
  true status     `ftui runs` never says running for a dead run, counts every process still
                  alive, and only calls it resumable when none is
  no second run   `ftui resume` is refused while any process of the run lives; after
                  `ftui stop --kill` it goes, and the directory sees one training at a time
                  (steps never go back within an attempt, one "completed")
  newest resumed  the resumed run starts from the newest complete checkpoint
Prints one line per run, the totals, then the same as one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ftui.core.runs.checkpoints import newest_complete_checkpoint
from ftui.core.runs.events import TERMINAL_STATUSES, last_status, read_events
from ftui.core.runs.processes import (
    all_processes,
    all_run_processes,
    live_rank_processes,
    run_is_live,
)
from ftui.core.runs.rundir import RunPaths, read_json_object, read_run_json
from ftui.core.runs.status import run_status

SAVE_STEPS = 10


def ftui(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ftui", *args], capture_output=True, text=True, timeout=timeout
    )


def wait(done: Callable[[], object], timeout: float = 120, poll: float = 0.05) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if done():
            return True
        time.sleep(poll)
    return False


def rank_pid(run: Path, rank: int) -> int:
    return int(read_json_object(RunPaths(run).pid_file(rank))["pid"])


def supervisor(run: Path) -> int:
    return int(read_run_json(run)["pid"])


def torchrun(run: Path) -> int:
    sup = supervisor(run)
    return next(p.pid for p in all_processes() if p.ppid == sup and p.running)


def mid_save(run: Path) -> None:
    """Wait until a checkpoint directory exists without its marker: a save under way."""
    folder = RunPaths(run).checkpoints
    done = {p.name for p in folder.glob("checkpoint-*")}

    def saving() -> bool:
        return any(
            p.name not in done and not (p / RunPaths.COMPLETE_MARKER).exists()
            for p in folder.glob("checkpoint-*")
        )

    wait(saving, timeout=60, poll=0.005)


def kill(pid: int, sig: int = signal.SIGKILL) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def stop_all_ranks(run: Path) -> None:
    for pid in live_rank_processes(run):
        kill(pid, signal.SIGSTOP)


# name -> what it does to a run that is training (its first checkpoint written)
ATTACKS: dict[str, Callable[[Path], None]] = {
    "SIGKILL rank 1": lambda run: kill(rank_pid(run, 1)),
    "SIGKILL torchrun": lambda run: kill(torchrun(run)),
    "SIGKILL supervisor": lambda run: kill(supervisor(run)),
    "SIGKILL rank 0 during a save": lambda run: (mid_save(run), kill(rank_pid(run, 0))),
    "SIGSTOP ranks, SIGKILL torchrun": lambda run: (stop_all_ranks(run), kill(torchrun(run))),
    "SIGKILL supervisor and torchrun during a save": lambda run: (
        mid_save(run),
        kill(supervisor(run)),
        kill(torchrun(run)),
    ),
    "SIGSTOP rank 1, SIGKILL rank 0": lambda run: (
        kill(rank_pid(run, 1), signal.SIGSTOP),
        kill(rank_pid(run, 0)),
    ),
}


def one_training_at_a_time(run: Path) -> bool:
    """Steps never go back within an attempt (two trainings interleave), one "completed"."""
    events = read_events(run)
    completed = sum(
        1 for e in events if e.get("type") == "status" and e.get("status") == "completed"
    )
    last = -1
    for event in events:
        if event.get("type") == "status" and event.get("status") == "starting":
            last = -1  # a new attempt (a resume) starts from its checkpoint's step
        elif event.get("type") == "metrics":
            if event["step"] <= last:
                return False
            last = event["step"]
    return completed <= 1


def attack(root: Path, name: str) -> dict[str, Any]:
    out = ftui(
        "run", "demo", "--detach",
        "--set", f"output.root={root}",
        "--set", "train.max_steps=600",
        "--set", f"train.save_steps={SAVE_STEPS}",
    )  # fmt: skip
    if out.returncode != 0:
        return {"attack": name, "error": out.stderr.strip()[-300:]}
    run = Path(out.stdout.strip().splitlines()[-1])
    result: dict[str, Any] = {"attack": name, "run": run.name}
    try:
        wait(lambda: any(e.get("type") == "checkpoint" for e in read_events(run)), 180)
        wait(lambda: len(live_rank_processes(run)) == 2, 60)
        ATTACKS[name](run)
        wait(lambda: not run_is_live(run), 60)  # the supervisor (if alive) finishes its story
        time.sleep(1.0)
        info, alive = run_status(run), all_run_processes(run)
        result["status"] = f"{info.status}: {info.reason}"[:200]
        result["left_running"] = len(alive)
        result["true_status"] = (
            info.status in ("failed", "stopped")
            and not info.live
            and set(alive) <= set(info.leftover_pids) | {supervisor(run)}
            and not (alive and info.resumable)
        )
        refused = True
        if alive:  # a resume now would start a second training next to them
            refused = ftui("resume", str(run)).returncode != 0 and all_run_processes(run) == alive
            ftui("stop", str(run), "--kill")
        result["resume_refused_while_alive"] = refused
        wait(lambda: not all_run_processes(run), 30)
        newest = newest_complete_checkpoint(run, set_aside_incomplete=False)
        since = time.time()
        step = int(newest.name.rsplit("-", 1)[1]) if newest else 0
        resumed = ftui("resume", str(run), "--set", f"train.max_steps={step + SAVE_STEPS}")
        result["resumed"] = resumed.returncode == 0
        if resumed.returncode == 0:
            wait(
                lambda: (
                    (last_status(read_events(run)) or {}).get("status") in TERMINAL_STATUSES
                    and (last_status(read_events(run)) or {}).get("t", 0) > since
                    and not run_is_live(run)
                ),
                240,
                0.3,
            )
            from_ = [e.get("checkpoint") for e in read_events(run) if e.get("type") == "resumed"]
            result["resumed_from"] = Path(from_[-1]).name if from_ else None
            result["resumed_from_newest"] = bool(
                from_ and newest and Path(from_[-1]).name == newest.name
            )
            result["final_status"] = (last_status(read_events(run)) or {}).get("status")
        else:
            result["resume_error"] = resumed.stderr.strip()[-300:]
        result["one_training_at_a_time"] = one_training_at_a_time(run)
    finally:
        ftui("stop", str(run), "--kill")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=len(ATTACKS), help="runs to attack")
    parser.add_argument("--root", type=Path, help="where the runs go (default: a temp dir)")
    parser.add_argument("--seed", type=int, default=None, help="shuffle the attacks with it")
    args = parser.parse_args()
    root = args.root or Path(tempfile.mkdtemp(prefix="ftui-kills-"))
    names = list(ATTACKS)
    if args.seed is not None:
        random.Random(args.seed).shuffle(names)
    started = time.time()
    results = []
    for i in range(args.runs):
        result = attack(root, names[i % len(names)])
        results.append(result)
        print(json.dumps(result), flush=True)
    ok = [r for r in results if "error" not in r]
    totals = {
        "runs_attacked": len(results),
        "survived_with_true_status": sum(bool(r.get("true_status")) for r in ok),
        "resume_refused_while_processes_lived": sum(
            bool(r.get("resume_refused_while_alive")) for r in ok if r.get("left_running")
        ),
        "runs_with_processes_left": sum(bool(r.get("left_running")) for r in ok),
        "resumed_from_newest_complete_checkpoint": sum(
            bool(r.get("resumed_from_newest")) for r in ok
        ),
        "resumed_and_completed": sum(r.get("final_status") == "completed" for r in ok),
        "never_two_trainings_in_one_dir": sum(bool(r.get("one_training_at_a_time")) for r in ok),
        "seconds": round(time.time() - started),
        "load_average_1m_at_end": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
    }
    n = totals["runs_attacked"]
    print(f"runs killed: {n}")
    print(f"survived with true status: {totals['survived_with_true_status']}/{n}")
    print(
        "resume refused while processes lived: "
        f"{totals['resume_refused_while_processes_lived']}/{totals['runs_with_processes_left']}"
    )
    print(
        "resumed from the newest complete checkpoint: "
        f"{totals['resumed_from_newest_complete_checkpoint']}/{n}"
        f" (completed: {totals['resumed_and_completed']})"
    )
    print(f"never two trainings in one dir: {totals['never_two_trainings_in_one_dir']}/{n}")
    print(json.dumps({"totals": totals, "runs": results}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
