"""Rank logs side by side: which logs a page shows, one bounded tail per visible log, error flags."""

from __future__ import annotations

from pathlib import Path

from fake_runs import make_run  # noqa: E402

from ftui.core.runs.split_logs import (  # noqa: E402
    SplitTails,
    column_title,
    shows_error,
    split_columns,
    split_logs,
    split_page,
)
from ftui.core.runs.watch import RunWatcher  # noqa: E402


def write_logs(run: Path, ranks: int, lines: int = 5) -> list[Path]:
    logs = run / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    for rank in range(ranks):
        body = "".join(f"[rank{rank}] line {i}\n" for i in range(1, lines + 1))
        (logs / f"rank{rank}.log").write_text(body)
    return [logs / f"rank{r}.log" for r in range(ranks)]


def test_columns_fit_the_width_up_to_four() -> None:
    assert split_columns(120) == 4
    assert split_columns(300) == 4
    assert split_columns(70) == 2
    assert split_columns(10) == 1


def test_split_logs_are_rank_logs_in_numeric_order(tmp_path: Path) -> None:
    write_logs(tmp_path, 12)
    (tmp_path / "logs" / "launcher.log").write_text("torchrun started\n")
    names = [p.name for p in split_logs(tmp_path)]
    assert names == [f"rank{r}.log" for r in range(12)]  # rank10 after rank9, no launcher.log


def test_without_rank_logs_the_other_logs_are_shown(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "launcher.log").write_text("x\n")
    assert [column_title(p) for p in split_logs(tmp_path)] == ["launcher.log"]
    assert split_logs(tmp_path / "missing") == []


def test_pages_of_columns_wrap_around(tmp_path: Path) -> None:
    logs = write_logs(tmp_path, 8)
    first = split_page(logs, 0, 4)
    assert first.logs == logs[:4] and first.title == "ranks 0–3 of 8" and first.pages == 2
    second = split_page(logs, 1, 4)
    assert second.logs == logs[4:] and second.title == "ranks 4–7 of 8"
    assert split_page(logs, 2, 4).logs == logs[:4]
    six = split_page(logs[:6], 1, 4)
    assert six.logs == logs[4:6] and six.title == "ranks 4–5 of 6" and six.index == 1
    assert split_page(logs[:5], 1, 4).title == "rank 4 of 5"
    assert split_page([], 3, 4).title == "no rank logs yet"
    assert column_title(logs[3]) == "rank 3"


def test_a_nodes_share_of_ranks_is_titled_by_name(tmp_path: Path) -> None:
    """On the second node of a multi-node run without a shared file system: ranks 4-7 only."""
    logs = write_logs(tmp_path, 8)[4:]
    page = split_page(logs, 0, 2)
    assert page.title == "rank 4, rank 5 (logs 1–2 of 4)"
    assert split_page(logs, 1, 2).title == "rank 6, rank 7 (logs 3–4 of 4)"


def test_tails_are_created_when_visible_incremental_and_dropped_when_paged_away(
    tmp_path: Path,
) -> None:
    logs = write_logs(tmp_path, 6)
    tails = SplitTails(max_lines=3)
    update = tails.poll(split_page(logs, 0, 4))
    assert [c.title for c in update.columns] == ["rank 0", "rank 1", "rank 2", "rank 3"]
    assert all(c.reset for c in update.columns)
    assert update.columns[1].lines == ["[rank1] line 3", "[rank1] line 4", "[rank1] line 5"]
    with open(logs[2], "a") as fh:
        fh.write("[rank2] new\n")
    update = tails.poll(split_page(logs, 0, 4))
    assert [c.lines for c in update.columns] == [[], [], ["[rank2] new"], []]
    assert not any(c.reset for c in update.columns)
    update = tails.poll(split_page(logs, 1, 4))
    assert [c.title for c in update.columns] == ["rank 4", "rank 5"]
    assert set(tails.tails) == set(logs[4:])  # the first page's tails are gone
    update = tails.poll(split_page(logs, 0, 4))
    assert update.columns[2].reset and update.columns[2].lines[-1] == "[rank2] new"


def test_a_traceback_in_the_last_lines_marks_the_column(tmp_path: Path) -> None:
    logs = write_logs(tmp_path, 3)
    with open(logs[1], "a") as fh:
        fh.write("Traceback (most recent call last):\n  File 'x.py'\nRuntimeError: boom\n")
    with open(logs[2], "a") as fh:  # an old error, followed by many healthy lines
        fh.write("ValueError: once\n" + "".join(f"step {i}\n" for i in range(40)))
    update = SplitTails().poll(split_page(logs, 0, 4))
    assert [c.error for c in update.columns] == [False, True, False]
    with open(logs[0], "a") as fh:
        fh.write("torch.distributed.DistNetworkError: timed out")  # no newline yet
    update = SplitTails().poll(split_page(logs, 0, 4))
    assert update.columns[0].error
    assert shows_error(["all good", "OSError: disk full"]) and not shows_error(["loss 1.0"])


def test_watcher_switches_between_split_and_single_view(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    write_logs(run, 6)
    watcher = RunWatcher(run)
    first = watcher.poll()
    assert first.split is None and first.log_path is not None and first.log_path.name == "rank0.log"
    watcher.show_split(1, 4)
    update = watcher.poll()
    assert update.split is not None and update.log_path is None
    assert update.split.page.title == "ranks 4–5 of 6"
    assert [c.lines[-1] for c in update.split.columns] == ["[rank4] line 5", "[rank5] line 5"]
    watcher.show_single()
    back = watcher.poll()
    assert back.split is None and back.log_reset and back.log_lines[-1] == "[rank0] line 5"
    assert watcher._split.tails == {}
