"""Bounded tails of log files: memory never grows with the file or with one long line.

`tail_lines(path)` reads the last lines once; `LogTail(path).poll()` returns the lines written
since the last call. Both keep at most `max_line` characters of any line (a 5 MB line without
a newline costs `max_line` bytes, not 5 MB), start from at most `max_bytes` before the end,
and start again from the top when the file is truncated or replaced (rotated).
"""

from __future__ import annotations

import os
import re
from collections import deque
from pathlib import Path

from ftui.core.runs.rundir import RunPaths, log_rank

MAX_LINE = 4096
MAX_BYTES = 256 * 1024
CHUNK = 64 * 1024
ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")  # colour and cursor codes: shown as text otherwise


def _clean(raw: bytes, dropped: int) -> str:
    text = ANSI.sub("", raw.decode("utf-8", "replace")).rstrip("\r")
    if "\r" in text:  # progress bars redraw with \r: keep what a terminal would show last
        text = text.rsplit("\r", 1)[-1]
    if dropped:
        text += f" … [{dropped} more bytes]"
    return text


class LogTail:
    """Incremental, bounded reader of one growing text file."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        max_lines: int = 1000,
        max_line: int = MAX_LINE,
        max_bytes: int = MAX_BYTES,
    ):
        self.path = Path(path)
        self.max_line = max_line
        self.max_bytes = max_bytes
        self.lines: deque[str] = deque(maxlen=max_lines)
        self._offset = 0
        self._inode: int | None = None
        self._partial = bytearray()
        self._dropped = 0  # bytes of the current line beyond max_line, counted not kept
        self._skip_to_newline = False  # started mid-line: drop the fragment

    @property
    def pending(self) -> str:
        """The unfinished last line (bounded), e.g. a progress bar still being drawn."""
        return _clean(bytes(self._partial), self._dropped) if self._partial else ""

    def poll(self) -> list[str]:
        try:
            st = self.path.stat()
        except OSError:
            return []
        if st.st_ino != self._inode or st.st_size < self._offset:
            self._restart(st.st_ino, st.st_size)
        if st.st_size == self._offset:
            return []
        new: list[str] = []
        try:
            with open(self.path, "rb") as fh:
                if st.st_size - self._offset > self.max_bytes:
                    # Too far behind: only the last max_bytes can be shown anyway.
                    self._offset = st.st_size - self.max_bytes
                    self._partial.clear()
                    self._dropped = 0
                    self._skip_to_newline = True
                fh.seek(self._offset)
                remaining = st.st_size - self._offset
                while remaining > 0:
                    chunk = fh.read(min(CHUNK, remaining))
                    if not chunk:
                        break
                    remaining -= len(chunk)
                    self._offset += len(chunk)
                    self._feed(chunk, new)
        except OSError:
            return new
        self.lines.extend(new)
        return new

    def _restart(self, inode: int, size: int) -> None:
        self._inode = inode
        self._offset = max(0, size - self.max_bytes)
        self._partial.clear()
        self._dropped = 0
        self._skip_to_newline = self._offset > 0

    def _feed(self, chunk: bytes, out: list[str]) -> None:
        start = 0
        while True:
            nl = chunk.find(b"\n", start)
            piece = chunk[start:] if nl < 0 else chunk[start:nl]
            if self._skip_to_newline:
                if nl >= 0:
                    self._skip_to_newline = False
            else:
                room = self.max_line - len(self._partial)
                if room > 0:
                    self._partial += piece[:room]
                self._dropped += max(0, len(piece) - max(room, 0))
                if nl >= 0:
                    out.append(_clean(bytes(self._partial), self._dropped))
                    self._partial.clear()
                    self._dropped = 0
            if nl < 0:
                return
            start = nl + 1


def tail_lines(
    path: str | os.PathLike[str], n: int = 200, max_bytes: int = MAX_BYTES, max_line: int = MAX_LINE
) -> list[str]:
    """The last `n` lines of a file (plus an unfinished last line), reading at most max_bytes."""
    tail = LogTail(path, max_lines=n, max_line=max_line, max_bytes=max_bytes)
    tail.poll()
    lines = list(tail.lines)
    if tail.pending:
        lines.append(tail.pending)
    return lines[-n:]


def rank_logs(run_dir: str | os.PathLike[str]) -> list[Path]:
    """logs/rank<N>.log sorted by rank, then any other *.log (launcher.log)."""
    logs = RunPaths(Path(run_dir)).logs
    try:
        files = [p for p in logs.iterdir() if p.suffix == ".log" and p.is_file()]
    except OSError:
        return []

    def key(p: Path) -> tuple[int, int, str]:
        rank = log_rank(p)
        return (0, rank, p.stem) if rank is not None else (1, 0, p.stem)

    return sorted(files, key=key)
