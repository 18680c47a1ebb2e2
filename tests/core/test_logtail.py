"""The log tailer: bounded memory for huge lines and files, survives truncation and rotation."""

from __future__ import annotations

import os
from pathlib import Path

from ftui.core.runs.logtail import LogTail, rank_logs, tail_lines


def test_incremental_poll_returns_only_new_complete_lines(tmp_path: Path) -> None:
    log = tmp_path / "rank0.log"
    log.write_text("one\ntwo\nthr")
    tail = LogTail(log)
    assert tail.poll() == ["one", "two"]
    assert tail.pending == "thr"
    with open(log, "a") as fh:
        fh.write("ee\nfour\n")
    assert tail.poll() == ["three", "four"]
    assert tail.poll() == []
    assert list(tail.lines) == ["one", "two", "three", "four"]


def test_five_megabyte_line_without_newline_is_bounded(tmp_path: Path) -> None:
    log = tmp_path / "rank0.log"
    log.write_text("before\n")
    tail = LogTail(log, max_line=1000, max_bytes=10 * 1024 * 1024)
    assert tail.poll() == ["before"]
    with open(log, "a") as fh:
        for _ in range(5):
            fh.write("x" * (1024 * 1024))  # 5 MB, no newline
    assert tail.poll() == []
    assert len(tail._partial) <= 1000  # what is held for the unfinished line
    assert tail.pending.startswith("x" * 1000)
    with open(log, "a") as fh:
        fh.write("\nafter\n")
    lines = tail.poll()
    assert lines[0].startswith("x" * 1000) and f"{5 * 1024 * 1024 - 1000} more bytes" in lines[0]
    assert lines[1] == "after"


def test_catching_up_reads_at_most_max_bytes(tmp_path: Path) -> None:
    log = tmp_path / "rank0.log"
    log.write_text("".join(f"line {i}\n" for i in range(200_000)))  # ~2.3 MB
    tail = LogTail(log, max_lines=50, max_bytes=4096)
    new = tail.poll()
    assert len(new) < 4096 // 7 + 1  # only the last 4 KiB was read
    assert new[-1] == "line 199999"
    assert new[0].startswith("line ")  # the fragment the window cut into was dropped
    assert list(tail.lines)[-1] == "line 199999" and len(tail.lines) == 50


def test_truncated_file_starts_again(tmp_path: Path) -> None:
    log = tmp_path / "rank0.log"
    log.write_text("a\nb\nc\n")
    tail = LogTail(log)
    assert tail.poll() == ["a", "b", "c"]
    with open(log, "w") as fh:  # truncate in place, as `> file` does
        fh.write("d\n")
    assert tail.poll() == ["d"]


def test_rotated_file_starts_again(tmp_path: Path) -> None:
    log = tmp_path / "rank0.log"
    log.write_text("old 1\nold 2\n")
    tail = LogTail(log)
    tail.poll()
    os.rename(log, tmp_path / "rank0.log.1")
    log.write_text("new 1\nnew 2\nnew 3\n")  # longer than before, different inode
    assert tail.poll() == ["new 1", "new 2", "new 3"]


def test_carriage_return_progress_bar_keeps_last_frame(tmp_path: Path) -> None:
    log = tmp_path / "rank0.log"
    log.write_text(" 10%|#\r 50%|#####\r100%|##########\n")
    assert tail_lines(log) == ["100%|##########"]


def test_tail_lines_and_missing_file(tmp_path: Path) -> None:
    log = tmp_path / "x.log"
    assert tail_lines(log) == []
    log.write_text("".join(f"{i}\n" for i in range(100)) + "partial")
    assert tail_lines(log, n=3) == ["98", "99", "partial"]


def test_rank_logs_sorted_by_rank(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    for name in ("rank10.log", "launcher.log", "rank2.log", "rank0.log"):
        (logs / name).write_text("")
    assert [p.name for p in rank_logs(tmp_path)] == [
        "rank0.log",
        "rank2.log",
        "rank10.log",
        "launcher.log",
    ]


def test_ansi_colour_codes_are_dropped(tmp_path: Path) -> None:
    log = tmp_path / "rank0.log"
    log.write_text("\x1b[33mWARNING\x1b[0m: slow\n")
    assert tail_lines(log) == ["WARNING: slow"]
