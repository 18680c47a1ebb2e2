"""ftui's GPU suite: one command, at most 8 minutes on one H200, one JSON and a short summary.

    python bench/gpu/run.py --out DIR             # on a CUDA GPU: the published shapes
    python bench/gpu/run.py --out DIR --dry-run   # anywhere: the same code paths, tiny shapes,
                                                  # on the CPU (the test in tests/perf runs it)

Parts (bench/gpu/part_*.py), in this order, each with its own budget: detection (`ftui gpus
--json` against nvidia-smi and torch), memory (ftui's estimate against measured peaks),
throughput (TRL and ftui recipes, interleaved), packing_attention (which attention keeps packed
samples apart, which is fastest), ftui_run (a real `ftui run` through torchrun, then the probe's
out-of-memory back-off). They run in one child process (bench/gpu/parts.py), each under a time
box; a part that overruns its box by GRACE_S is killed with the child, recorded, and the child
starts again for the parts left. Every part's outcome is in OUT/result.json (status ok, failed,
timed_out, killed or skipped, with the reason); OUT/summary.md is the human summary
(bench/gpu/report.py, the same tables bench/gpu/to_readme.py puts in the README).

This process never imports torch: it only starts, watches and stops the child.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path[:0] = [str(HERE), str(ROOT)]

from report import markdown  # noqa: E402

from ftui.core.runs.processes import signal_and_wait, term_then_kill  # noqa: E402

ORDER = ("detection", "memory", "throughput", "packing_attention", "ftui_run")
# Seconds per part. On the GPU they add up to 7 min 40 s with the child's start-ups (the
# suite's limit is 8 minutes); the dry run's are caps far above what the parts take (about
# a minute in all on two shared cores; 2.5 minutes when eight sessions load them).
BUDGET_S = {
    "gpu": {
        "detection": 25,
        "memory": 75,
        "throughput": 200,
        "packing_attention": 60,
        "ftui_run": 100,
    },
    "dry": {
        "detection": 60,
        "memory": 90,
        "throughput": 180,
        "packing_attention": 60,
        "ftui_run": 180,
    },
}
TOTAL_S = {"gpu": 480, "dry": 600}
GRACE_S = 20  # past its budget, a part whose time box did not fire is killed
VERSIONS = (
    "torch", "transformers", "peft", "accelerate", "trl", "liger-kernel", "datasets", "pydantic",
    "triton", "flash-attn", "pyarrow", "fsspec", "huggingface-hub", "typing-extensions",
)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--out", type=Path, required=True, help="folder for result.json, summary.md")
    p.add_argument("--dry-run", action="store_true", help="CPU, tiny shapes, same code paths")
    p.add_argument("--work", type=Path, help="scratch folder (default: a temp folder)")
    p.add_argument("--parts", default=",".join(ORDER), help="comma-separated subset")
    args = p.parse_args(argv)
    mode = "dry" if args.dry_run else "gpu"
    out: Path = args.out
    (out / "parts").mkdir(parents=True, exist_ok=True)
    for old in (out / "parts").glob("*.json"):  # an earlier suite's parts are not this one's
        old.unlink()
    work = args.work or Path(tempfile.mkdtemp(prefix="ftui-gpu-suite-"))
    wanted = [x for x in args.parts.split(",") if x]
    unknown = sorted(set(wanted) - set(ORDER))
    if unknown:
        p.error(f"--parts: unknown {', '.join(unknown)}; choose from {', '.join(ORDER)}")
    names = [n for n in ORDER if n in wanted]
    started, t0 = time.time(), time.monotonic()
    outcomes = supervise(names, BUDGET_S[mode], TOTAL_S[mode], out, work, args.dry_run)
    result = {
        "suite": "ftui GPU suite",
        "schema": 1,
        "dry_run": args.dry_run,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "wall_s": round(time.monotonic() - t0, 1),
        "budgets_s": {n: BUDGET_S[mode][n] for n in names},
        "total_budget_s": TOTAL_S[mode],
        "machine": machine(),
        "versions": versions(),
        "parts": outcomes,
    }
    (out / "result.json").write_text(json.dumps(result, indent=1, default=str) + "\n")
    (out / "summary.md").write_text(markdown(result))
    print((out / "summary.md").read_text())
    print(f"[gpu-suite] {out / 'result.json'} in {result['wall_s']} s", flush=True)
    return 0


def supervise(
    names: list[str], budgets: dict[str, int], total_s: int, out: Path, work: Path, dry: bool
) -> dict[str, Any]:
    """Run the parts in a child; kill it when a part overruns its budget by GRACE_S or the
    suite its total, and start it again for the parts left."""
    deadline = time.monotonic() + total_s
    done: dict[str, Any] = {}
    log = open(out / "suite.log", "a")  # noqa: SIM115 - the child's output, a file not a pipe
    try:
        while True:
            left = [n for n in names if n not in done]
            if not left:
                return done
            if deadline - time.monotonic() < 10:
                for n in left:
                    done[n] = {"status": "skipped", "error": "the suite's total time is spent"}
                return done
            before = len(done)
            child = start_child(left, budgets, out, work, dry, log)
            watch(child, left, budgets, out, done, deadline)
            if len(done) == before:  # it died before finishing any part: do not loop on it
                why = f"the suite's child process exited ({child.returncode}); see suite.log"
                for n in left:
                    done.setdefault(n, {"status": "failed", "error": why})
    finally:
        log.close()


def start_child(
    left: list[str], budgets: dict[str, int], out: Path, work: Path, dry: bool, log: Any
) -> subprocess.Popen[bytes]:
    argv = [sys.executable, str(HERE / "parts.py"), "--out", str(out), "--work", str(work)]
    argv += ["--dry-run"] if dry else []
    argv += [f"{n}={budgets[n]}" for n in left]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    if dry:  # tiny shapes on shared cores: a second thread only waits (6x slower steps seen)
        env["OMP_NUM_THREADS"] = "1"
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return subprocess.Popen(
        argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
        start_new_session=True,  # its own process group: killing it ends torchrun's too
    )  # fmt: skip


def read_part(out: Path, name: str) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads((out / "parts" / f"{name}.json").read_text())
        return data
    except (OSError, ValueError):
        return None


def watch(
    child: subprocess.Popen[bytes],
    left: list[str],
    budgets: dict[str, int],
    out: Path,
    done: dict[str, Any],
    deadline: float,
) -> None:
    """Until the child exits or is killed: record each part as it finishes."""
    started: dict[str, float] = {}
    while True:
        exited = child.poll() is not None
        for n in left:
            data = read_part(out, n)
            if n in done or data is None:
                continue
            if data["status"] != "running":
                done[n] = data
            elif n not in started:
                started[n] = time.monotonic()
        running = [n for n in left if n in started and n not in done]
        over = [n for n in running if time.monotonic() - started[n] > budgets[n] + GRACE_S]
        if exited or over or time.monotonic() > deadline:
            if not exited:
                stop(child)
            for n in running:
                data = read_part(out, n) or {}
                why = "its time box did not fire" if n in over else "the suite's time ran out"
                if exited and not over:
                    why = f"the suite's child process exited ({child.returncode}) during it"
                done[n] = {**data, "status": "killed" if not exited else "failed", "error": why}
            return
        time.sleep(0.5)


def stop(child: subprocess.Popen[bytes]) -> None:
    def send(sig: int) -> None:
        try:
            os.killpg(child.pid, sig)
        except ProcessLookupError:
            pass

    signal_and_wait(send, lambda: child.poll() is None, term_then_kill(5.0))
    if child.poll() is None:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()


def machine() -> dict[str, Any]:
    out: dict[str, Any] = {
        "host": platform.node(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }
    try:
        sha = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        out["ftui_commit"] = sha or None
    except (OSError, subprocess.SubprocessError):
        out["ftui_commit"] = None
    return out


def versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for name in VERSIONS:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


if __name__ == "__main__":
    raise SystemExit(main())
