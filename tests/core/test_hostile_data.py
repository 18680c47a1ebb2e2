"""Hostile data files: bounded time and memory, and one-line messages naming the file, the line
or byte offset and the fix (issue 17, items 8 and 12). The files are generated here; big ones
are sparse, or smaller with the row limit lowered to match."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ftui.core.data.dataset import DataError, load_split, tokenize_dataset
from ftui.core.data.preview import preview_rows
from ftui.core.spec import DataSection
from tests.data_fixtures import QA, spec_for, tiny_model, tokenizer, write_jsonl

ROOT = Path(__file__).resolve().parents[2]


def _rows(n: int = 3) -> list[dict[str, str]]:
    return [{"question": q, "answer": a} for q, a in QA[:n]]


def _with_line(tmp_path: Path, name: str, line: bytes) -> Path:
    good = [json.dumps(r).encode() for r in _rows()]
    p = tmp_path / name
    p.write_bytes(b"\n".join([*good[:2], line, *good[2:]]) + b"\n")
    return p


def _data(path: Path, **kw: object) -> DataSection:
    return DataSection(source=str(path), **kw)  # type: ignore[arg-type]


def test_a_line_over_the_row_limit_is_refused_with_its_number_and_size(tmp_path):
    p = _with_line(tmp_path, "long.jsonl", json.dumps({"question": "x" * 5000}).encode())
    data = _data(p, max_row_bytes=1024)
    for read in (lambda: preview_rows(data, n=20), lambda: load_split(data)):
        with pytest.raises(DataError) as err:
            read()
        msg = str(err.value)
        assert "long.jsonl line 3" in msg and "4.9 KiB" in msg, msg
        assert "data.max_row_bytes=1024" in msg and "--set data.max_row_bytes=" in msg, msg


def test_the_first_rows_stop_at_the_read_budget(tmp_path, monkeypatch):
    from ftui.core.data import bounded

    monkeypatch.setattr(bounded, "READ_BUDGET", 4096)
    p = write_jsonl(tmp_path, "many.jsonl", [{"question": f"{i:04}" * 500} for i in range(2000)])
    rows = preview_rows(_data(p), n=1000).rows
    assert 0 < len(rows) < 1000  # one 1 MiB chunk read: about 500 rows of 2 KiB


NUL_PROBE = """
import sys
from ftui.core.data.dataset import DataError, load_split
from ftui.core.data.preview import preview_rows
from ftui.core.spec import DataSection
data = DataSection(source=sys.argv[1])
for read in (lambda: preview_rows(data, n=20), lambda: load_split(data)):
    try:
        read()
        print("no error")
    except DataError as exc:
        print(exc)
# VmHWM, not ru_maxrss: a child forked from a big pytest process inherits its ru_maxrss
hwm = next(ln for ln in open("/proc/self/status") if ln.startswith("VmHWM"))
print("peak", int(hwm.split()[1]) * 1024)
"""


def test_a_gigabyte_of_nul_bytes_is_refused_in_bounded_memory(tmp_path):
    p = tmp_path / "nul.jsonl"
    with open(p, "wb") as fh:
        fh.truncate(2**30)  # sparse: no disk used
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    out = subprocess.run(
        [sys.executable, "-c", NUL_PROBE, str(p)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    lines = out.stdout.splitlines()
    assert len(lines) == 3, out.stdout + out.stderr
    for line in lines[:2]:
        assert "nul.jsonl line 1 (at byte 0) is over 256.0 MiB" in line, line
    peak = int(lines[2].split()[1])
    assert peak < 400 * 2**20, f"peak RSS {peak / 2**20:.0f} MiB"


def test_a_row_over_the_limit_is_refused_before_tokenising_on_the_trainer_path(tmp_path):
    import datasets

    rows = [*_rows(), {"question": "y" * 3000, "answer": "a"}]
    ds = datasets.Dataset.from_list(rows)
    spec = spec_for(
        tmp_path / "x.jsonl",
        tiny_model(),
        data={"columns": {"prompt": "question", "response": "answer"}, "max_row_bytes": 2048},
        template={"name": "chatml"},
    )
    from ftui.core.data.dataset import resolve_mapping

    det = resolve_mapping(spec.data, ["question", "answer"], rows)
    with pytest.raises(DataError) as err:
        tokenize_dataset(ds, det, spec, tokenizer())
    assert "row 3 holds 2.9 KiB of text" in str(err.value)
    assert "data.max_row_bytes=2048" in str(err.value)


def test_a_parquet_cell_over_the_limit_is_refused_by_the_lens(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from ftui.core.data.lens_report import lens_report

    p = tmp_path / "big.parquet"
    rows = [*_rows(), {"question": "z" * 3000, "answer": "a"}]
    pq.write_table(pa.Table.from_pylist(rows), p)
    spec = spec_for(
        p,
        tiny_model(),
        data={"columns": {"prompt": "question", "response": "answer"}, "max_row_bytes": 2048},
        template={"name": "chatml"},
    )
    report = lens_report(spec, rows=2, sample=10)
    assert report.errors and "row 3 holds 2.9 KiB" in report.errors[0], report.errors


def test_invalid_utf8_names_the_line_and_byte(tmp_path):
    p = _with_line(tmp_path, "latin.jsonl", b'{"question": "caf\xe9", "answer": "a"}')
    for read in (lambda: preview_rows(_data(p)), lambda: load_split(_data(p))):
        with pytest.raises(DataError) as err:
            read()
        msg = str(err.value)
        offset = p.read_bytes().index(b"\xe9")
        assert f"latin.jsonl is not valid UTF-8 at line 3, byte {offset}" in msg, msg
        assert "re-save the file as UTF-8" in msg


def test_json_nested_100000_deep_is_a_message(tmp_path):
    deep = b'{"question": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    p = _with_line(tmp_path, "deep.jsonl", deep)
    with pytest.raises(DataError, match="deep.jsonl line 3 is nested too deeply"):
        preview_rows(_data(p))
    q = tmp_path / "deep.json"
    q.write_bytes(b"[" * 100_000 + b"]" * 100_000)
    with pytest.raises(DataError, match="deep.json is nested too deeply"):
        preview_rows(_data(q))


def test_a_text_file_named_parquet_is_a_message(tmp_path):
    p = tmp_path / "text.parquet"
    p.write_text("hello\nworld\n")
    for read in (lambda: preview_rows(_data(p)), lambda: load_split(_data(p))):
        with pytest.raises(DataError, match="text.parquet is not a Parquet file"):
            read()


@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_a_fifo_or_a_device_is_not_a_regular_file(tmp_path, kind):
    p = tmp_path / "data.jsonl"
    if kind == "fifo":
        os.mkfifo(p)
    else:
        p.symlink_to("/dev/zero")
    for read in (lambda: preview_rows(_data(p)), lambda: load_split(_data(p))):
        with pytest.raises(DataError, match="is not a regular file"):
            read()


def test_ordinary_csv_and_text_still_preview(tmp_path):
    c = tmp_path / "a.csv"
    c.write_text('question,answer\n"multi\nline",yes\nq2,\n\nq3,a3\n')
    pv = preview_rows(_data(c))
    assert pv.columns == ["question", "answer"]
    assert pv.rows == [
        {"question": "multi\nline", "answer": "yes"},
        {"question": "q2", "answer": ""},
        {"question": "q3", "answer": "a3"},
    ]
    t = tmp_path / "a.txt"
    t.write_text("one\n\ntwo")
    pv = preview_rows(_data(t))
    assert [r["text"] for r in pv.rows] == ["one", "", "two"] and pv.total_rows == 3


def test_the_statistics_stop_at_the_text_budget(tmp_path, monkeypatch):
    """Rows each under the limit still cost time to tokenise: the sample stops at a budget."""
    from ftui.core.data import mask_lens
    from ftui.core.data.dataset import resolve_mapping

    monkeypatch.setattr(mask_lens, "SAMPLE_TEXT_BYTES", 2000)
    rows = [{"question": "w " * 200, "answer": "a"} for _ in range(50)]
    spec = spec_for(
        tmp_path / "x.jsonl",
        tiny_model(),
        data={"columns": {"prompt": "question", "response": "answer"}},
        template={"name": "chatml"},
    )
    det = resolve_mapping(spec.data, ["question", "answer"], rows)
    lens = mask_lens.build_lens(rows, det, spec, tokenizer(), show=2)
    assert lens.stats.rows == 5 and len(lens.rows) == 2  # 401 bytes a row: past 2000 after 5
