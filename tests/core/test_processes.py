"""ftui.core.runs.processes on real processes and real signals: the /proc reader and the ladder."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ftui.core.runs.processes import (
    group_members,
    is_process_alive,
    own_peak_resident_bytes,
    own_resident_bytes,
    parse_stat,
    process_start_time,
    read_stat,
    signal_and_wait,
    term_then_kill,
)

pytestmark = pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads Linux /proc")

# Renames itself to a command name with the characters that break a naive stat parser, ignores
# SIGTERM when told to, and says when it is ready.
CHILD = (
    "import signal, sys, time\n"
    "open('/proc/self/comm', 'w').write('a) (b c')\n"
    "if sys.argv[1] == 'stubborn': signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "print('ready', flush=True)\n"
    "time.sleep(60)\n"
)


def _start(tmp_path: Path, mode: str) -> subprocess.Popen[bytes]:
    log = tmp_path / f"{mode}.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", CHILD, mode],
            stdout=out,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    deadline = time.monotonic() + 20
    while "ready" not in log.read_text():
        assert time.monotonic() < deadline and proc.poll() is None, log.read_text()
        time.sleep(0.02)
    return proc


@pytest.fixture
def children(tmp_path: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def test_stat_of_a_process_whose_name_holds_parens_and_spaces(tmp_path: Path, children) -> None:
    proc = _start(tmp_path, "plain")
    children.append(proc)
    assert Path(f"/proc/{proc.pid}/comm").read_text().strip() == "a) (b c"
    stat = read_stat(proc.pid)
    assert stat is not None and stat.running
    assert stat.pgid == proc.pid  # its own session and group
    assert stat.start_time == process_start_time(proc.pid) and stat.start_time > 0
    assert is_process_alive(proc.pid, stat.start_time)
    assert not is_process_alive(proc.pid, stat.start_time + 1)  # a reused pid is not ours
    assert group_members(proc.pid) == [proc.pid]


def test_an_unreaped_child_is_not_alive(tmp_path: Path, children) -> None:
    proc = _start(tmp_path, "plain")
    children.append(proc)
    start = process_start_time(proc.pid)
    proc.send_signal(signal.SIGKILL)
    deadline = time.monotonic() + 10
    while (stat := read_stat(proc.pid)) is not None and stat.running:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert stat is not None and stat.state == "Z"  # a zombie: exited, not yet reaped
    assert process_start_time(proc.pid) is None and not is_process_alive(proc.pid, start)
    assert group_members(proc.pid) == []


def test_parse_stat_refuses_a_short_line() -> None:
    assert parse_stat(1, b"1 (init) S 0") is None


def test_ladder_stops_at_sigterm_when_the_process_obeys(tmp_path: Path, children) -> None:
    proc = _start(tmp_path, "plain")
    children.append(proc)
    sent: list[int] = []

    def send(sig: int) -> None:
        sent.append(sig)
        proc.send_signal(sig)

    assert signal_and_wait(send, lambda: proc.poll() is None, term_then_kill(10.0))
    assert sent == [signal.SIGTERM] and proc.returncode == -signal.SIGTERM


def test_ladder_escalates_to_sigkill_within_the_bound(tmp_path: Path, children) -> None:
    proc = _start(tmp_path, "stubborn")
    children.append(proc)
    sent: list[int] = []

    def send(sig: int) -> None:
        sent.append(sig)
        proc.send_signal(sig)

    started = time.monotonic()
    assert signal_and_wait(send, lambda: proc.poll() is None, term_then_kill(0.5))
    assert time.monotonic() - started < 5.5
    assert sent == [signal.SIGTERM, signal.SIGKILL] and proc.returncode == -signal.SIGKILL


def test_ladder_sends_nothing_when_nothing_runs() -> None:
    sent: list[int] = []
    assert signal_and_wait(sent.append, lambda: False, term_then_kill(1.0))
    assert sent == []


def test_own_memory_is_read() -> None:
    resident, peak = own_resident_bytes(), own_peak_resident_bytes()
    assert resident is not None and peak is not None and 0 < resident <= peak
