"""Every rank's log side by side, a page of columns at a time (the monitor's split view).

`split_columns(width)` says how many columns fit; `split_page(logs, page, columns)` picks the
logs on one page; `SplitTails.poll(paths)` keeps one bounded, incremental LogTail per visible
log (created when it becomes visible, dropped when it is paged away) and returns each column's
new lines. `shows_error(lines)` flags a column whose last lines hold a traceback or an error.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from ftui.core.runs.logtail import LogTail, rank_logs
from ftui.core.runs.rundir import log_rank

MAX_COLUMNS = 4
MIN_COLUMN_WIDTH = 30  # characters: narrower columns wrap nothing and cut every line short
ERROR_WINDOW = 30  # lines at the end of a log searched for a traceback or error


def split_columns(width: int, max_columns: int = MAX_COLUMNS) -> int:
    """How many log columns of at least MIN_COLUMN_WIDTH fit `width` characters (at least 1)."""
    return max(1, min(max_columns, width // MIN_COLUMN_WIDTH))


def split_logs(run_dir: str | os.PathLike[str]) -> list[Path]:
    """The per-rank logs (rank<N>.log, in rank order); other logs only when there is no rank log."""
    logs = rank_logs(run_dir)
    ranks = [p for p in logs if log_rank(p) is not None]
    return ranks or logs


def column_title(path: Path) -> str:
    """'rank 3' for logs/rank3.log; any other log keeps its file name."""
    rank = log_rank(path)
    return f"rank {rank}" if rank is not None else path.name


@dataclass(frozen=True)
class SplitPage:
    logs: list[Path]  # the logs shown on this page, left to right
    index: int  # which page (0-based), after wrapping around
    pages: int
    first: int  # position of logs[0] among all logs
    total: int  # how many logs there are in all
    numbered: bool = True  # the logs are rank0.log … rank<total-1>.log, none missing

    @property
    def title(self) -> str:
        """'ranks 0–3 of 8' ('rank 5 of 6' for one column). When the logs are not ranks 0…N-1
        (one node's share of a multi-node run, or no rank logs), their names and positions."""
        if not self.logs:
            return "no rank logs yet"
        if self.numbered:
            first, last = log_rank(self.logs[0]), log_rank(self.logs[-1])
            if first == last:
                return f"rank {first} of {self.total}"
            return f"ranks {first}–{last} of {self.total}"
        names = ", ".join(column_title(p) for p in self.logs)
        return f"{names} (logs {self.first + 1}–{self.first + len(self.logs)} of {self.total})"


def split_page(logs: list[Path], page: int, columns: int) -> SplitPage:
    """The `page`-th group of `columns` logs; pages wrap around (page past the end = page 0)."""
    columns = max(1, columns)
    pages = max(1, -(-len(logs) // columns))
    index = page % pages
    first = index * columns
    numbered = [log_rank(p) for p in logs] == list(range(len(logs)))
    return SplitPage(logs[first : first + columns], index, pages, first, len(logs), numbered)


def shows_error(lines: Iterable[str]) -> bool:
    """True when a line holds a Python traceback or an error (pass a log's last lines)."""
    return any("Traceback" in line or "Error" in line for line in lines)


@dataclass
class SplitColumn:
    path: Path
    title: str
    lines: list[str]  # new lines since the last poll, or the whole tail when `reset`
    reset: bool  # True: this column now shows another log (or shows it for the first time)
    error: bool  # the log's last lines hold a traceback or an error


@dataclass
class SplitUpdate:
    page: SplitPage
    columns: list[SplitColumn] = field(default_factory=list)


class SplitTails:
    """One LogTail per visible log. Not thread-safe: poll from one thread."""

    def __init__(self, max_lines: int = 500) -> None:
        self.max_lines = max_lines
        self.tails: dict[Path, LogTail] = {}

    def poll(self, page: SplitPage) -> SplitUpdate:
        for gone in set(self.tails) - set(page.logs):  # paged away: its memory goes too
            del self.tails[gone]
        update = SplitUpdate(page)
        for path in page.logs:
            tail = self.tails.get(path)
            reset = tail is None
            if tail is None:
                tail = self.tails[path] = LogTail(path, max_lines=self.max_lines)
            new = tail.poll()
            lines = list(tail.lines) if reset else new
            recent = list(islice(reversed(tail.lines), ERROR_WINDOW))
            if tail.pending:
                recent.append(tail.pending)
            update.columns.append(
                SplitColumn(path, column_title(path), lines, reset, shows_error(recent))
            )
        return update

    def clear(self) -> None:
        self.tails.clear()
