"""Item 5: small files are written atomically. A writer SIGKILLed at random moments during 200
rewrites always leaves the old file or the new one, never a torn one; presets, run.json,
config.yaml, the STOP request and checkpoint markers all go through atomic_write_text."""

from __future__ import annotations

import hashlib
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# Each version is self-checking: "v<N> <sha256 of body>\n<body>", 256 KiB, so a write takes
# long enough for a kill to land in the middle of it.
WRITER = r"""
import hashlib, sys
from ftui.core.atomic import atomic_write_text
path, start = sys.argv[1], int(sys.argv[2])
i = start
while True:
    body = (f"{i:08d}" * 32768)
    atomic_write_text(path, f"v{i} {hashlib.sha256(body.encode()).hexdigest()}\n{body}")
    print(i, flush=True)
    i += 1
"""


def _check(path: Path) -> int:
    """The version number of a whole file; fails on a torn one."""
    text = path.read_text()
    head, _, body = text.partition("\n")
    match = re.fullmatch(r"v(\d+) ([0-9a-f]{64})", head)
    assert match, f"torn header: {head[:80]!r} ({len(text)} bytes)"
    assert hashlib.sha256(body.encode()).hexdigest() == match.group(2), "torn body"
    return int(match.group(1))


def test_a_writer_killed_at_random_never_leaves_a_torn_file(tmp_path: Path) -> None:
    target = tmp_path / "run.json"
    rng = random.Random(1234)
    rewrites = kills = 0
    version = 0
    while rewrites < 200:
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(target), str(version + 1)],
            stdout=subprocess.PIPE,  # drained below, line by line
            stdin=subprocess.DEVNULL,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            text=True,
        )
        assert proc.stdout is not None
        proc.stdout.readline()  # the first rewrite landed; now kill at a random moment
        time.sleep(rng.uniform(0, 0.05))
        proc.send_signal(signal.SIGKILL)
        done = proc.stdout.read().split()
        proc.wait()
        kills += 1
        seen = _check(target)
        last_reported = int(done[-1]) if done else version + 1
        assert seen >= last_reported, (seen, last_reported)  # a reported write is never lost
        rewrites += seen - version
        version = seen
    assert kills >= 5
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "run.json"]
    # A killed writer may leave its private temp file behind; it never has the target's name.
    assert all(p.startswith(".run.json.") and p.endswith(".tmp") for p in leftovers), leftovers


def _replaced(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every target os.replace moved a finished temp file onto (the atomic rename)."""
    import ftui.core.atomic as atomic

    targets: list[Path] = []
    real = os.replace

    def spy(src, dst):  # type: ignore[no-untyped-def]
        targets.append(Path(dst))
        return real(src, dst)

    monkeypatch.setattr(atomic.os, "replace", spy)
    return targets


def test_presets_run_json_config_stop_and_markers_are_written_atomically(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ftui.core.launch.spawn import request_stop
    from ftui.core.presets import resolve_spec, save_preset
    from ftui.core.runs.rundir import RunPaths, update_run_json
    from ftui.train.callbacks import mark_complete

    targets = _replaced(monkeypatch)
    spec = resolve_spec("demo")
    preset = save_preset("atomic-check", spec)
    run = RunPaths(tmp_path / "run")
    run.root.mkdir()
    spec.save(run.config)
    update_run_json(run.root, pid=os.getpid(), pid_start_time=None)
    assert request_stop(run.root)  # this process counts as the live run here
    ckpt = run.checkpoints / "checkpoint-5"
    ckpt.mkdir(parents=True)
    (ckpt / "trainer_state.json").write_text("{}")
    mark_complete(ckpt, 5)
    for path in (preset, run.config, run.run_json, run.stop_file, ckpt / "COMPLETE"):
        assert path in targets, (path, targets)


ALLOWED_DIRECT_WRITES = {
    # append-only streams, never rewritten: a torn last line is handled by the reader
    "ftui/core/runs/events.py": ('open(self.path, "a"',),
    "ftui/core/launch/spawn.py": ('open(paths.launcher_log, "ab")',),
    "ftui/train/worker.py": ('os.fdopen(1, "w"', 'os.fdopen(2, "w"'),
    # the probe child's stdout/stderr streams, in a temporary dir removed after it
    "ftui/core/check/probe.py": ('open(out_path, "w") as out, open(err_path, "w") as err',),
    # fetched artefacts: the registry client's log and the extracted files, all inside a
    # temp dir that is renamed into place as a whole (or removed)
    "ftui/core/model/artefacts.py": ('open(log_path, "wb") as log', 'open(dest, "wb") as out_file'),
    # lock files: opened to hold an flock, never written
    "ftui/core/launch/queue.py": ('open(folder / "queue.lock", "a")',),
    "ftui/core/launch/queue_runner.py": ('open(folder / "runner.lock", "a")',),
    # the GGUF converter's staging folder and its log, inside the export's temp dir that is
    # renamed into place as a whole (or removed)
    "ftui/core/playground/gguf_export.py": (
        '(staging / "tokenizer_config.json").write_text(',
        'open(log_path, "wb") as log',
    ),
}


def test_no_small_file_is_written_in_place() -> None:
    """Source check: nothing in ftui writes a file in place except the append-only logs."""
    pattern = re.compile(r"\.write_text\(|\.write_bytes\(|open\([^)]*['\"][wax]b?['\"]")
    offenders = []
    for path in sorted((REPO / "ftui").rglob("*.py")):
        rel = str(path.relative_to(REPO))
        if rel == "ftui/core/atomic.py":
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if pattern.search(line) and not (
                any(ok in line for ok in ALLOWED_DIRECT_WRITES.get(rel, ()))
            ):
                offenders.append(f"{rel}:{n}: {line.strip()}")
    assert offenders == [], "\n".join(offenders)
