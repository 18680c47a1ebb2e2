"""`ftui runs` reads events.jsonl from the end in linear time and bounded memory: an over-long
line (200 MB without a newline took 7 min 44 s) is skipped with a note, never joined or parsed
(issue 17, item 9)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fake_runs import T0, append_events, make_run  # noqa: E402

from ftui.core.runs.status import _reverse_lines, run_status, summarise_events  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def _with_long_line(run: Path, size: int, newline: bool = True) -> None:
    events = run / "events.jsonl"
    with open(events, "ab") as fh:
        fh.write(b'{"t": 1, "type": "metrics", "step": 99999, "note": "' + b"x" * size)
        if newline:
            fh.write(b"\n")


def test_an_over_long_line_is_skipped_with_a_note(tmp_path: Path) -> None:
    run = make_run(tmp_path, steps=20, total_steps=40, final=None)
    _with_long_line(run, 3 << 20)
    append_events(run, {"t": T0 + 900, "type": "status", "status": "stopped"})
    _with_long_line(run, 2 << 20, newline=False)  # a torn last line, no newline
    summary = summarise_events(run)
    assert summary["skipped_lines"] == 2
    assert summary["status"]["status"] == "stopped"
    assert summary["metrics"]["step"] == 20  # the long metrics line was never parsed
    assert summary["plan"]["total_steps"] == 40
    info = run_status(run)
    assert info.status == "stopped" and "2 over-long line(s) in events.jsonl skipped" in info.reason


def test_the_reverse_reader_splits_lines_exactly_and_stops_at_its_budget(tmp_path: Path) -> None:
    p = tmp_path / "f"
    lines = [b"a" * n for n in (0, 1, 5, 70_000, 3, 130_000, 0, 9)]
    p.write_bytes(b"\n".join(lines))
    got = list(_reverse_lines(p, chunk=4096, max_line=100_000))
    assert got == [None if len(x) > 100_000 else x for x in reversed(lines)]
    tail = list(_reverse_lines(p, chunk=4096, max_line=100_000, budget=8192))
    assert tail[:2] == [b"a" * 9, b""] and len(tail) < len(lines)


def test_the_plan_is_found_at_the_head_when_the_tail_budget_ends_first(
    tmp_path: Path, monkeypatch
) -> None:
    from ftui.core.runs import status

    run = make_run(tmp_path, steps=3000, total_steps=6000, final=None)
    monkeypatch.setattr(status, "MAX_TAIL_BYTES", 4096)
    summary = summarise_events(run)
    assert summary["metrics"]["step"] == 3000 and summary["plan"]["total_steps"] == 6000


PROBE = """
import sys
from pathlib import Path
from ftui.core.runs.status import summarise_events
def status(key):
    line = next(ln for ln in open("/proc/self/status") if ln.startswith(key))
    return int(line.split()[1]) * 1024
before = status("VmRSS")
summary = summarise_events(Path(sys.argv[1]))
print(summary.get("skipped_lines"), summary["metrics"]["step"], status("VmHWM") - before)
"""


def test_a_20_mb_line_without_newline_costs_no_memory(tmp_path: Path) -> None:
    run = make_run(tmp_path, steps=20, total_steps=40, final=None)
    _with_long_line(run, 20 << 20, newline=False)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(run)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    skipped, step, grown = out.stdout.split()
    assert (skipped, step) == ("1", "20"), out.stderr
    assert int(grown) < 8 << 20, f"memory grew {int(grown) >> 20} MiB reading the tail"
