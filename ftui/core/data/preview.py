"""The first rows of a dataset without loading it whole.

Local JSONL, CSV/TSV, text and Parquet files are read from the start (Parquet by its first
record batch; its row count comes from the footer); a small JSON file is parsed directly;
anything else (a hub dataset, a big JSON array) goes through `datasets` with `streaming=True`,
which fetches only what the first rows need.
"""

from __future__ import annotations

import csv
import itertools
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ftui.core.data.bounded import (
    check_parquet,
    count_lines,
    decode_line,
    iter_lines,
    parse_json_line,
    require_regular,
    scan_file,
)
from ftui.core.data.dataset import (
    LOCAL_BUILDERS,
    DataError,
    _local_builder,
    is_local_source,
    load_split,
)
from ftui.core.demo import resolve_data_ref
from ftui.core.spec import DataSection

SMALL_JSON_BYTES = 32 * 2**20
SLICE = re.compile(r"^(?P<name>[\w.-]+)(\[(?P<start>\d*):(?P<stop>\d*)\])?$")


@dataclass
class DataPreview:
    source: str  # as the spec names it (builtin:demo-qa, owner/name, a path)
    columns: list[str]
    rows: list[dict[str, Any]]
    total_rows: int | None  # None when unknown without reading everything
    streamed: bool  # only the first rows were read
    note: str = ""


def _lines(path: Path, limit: int, skip: int, n: int, blank: bool) -> Iterator[tuple[int, str]]:
    """(line number, text) of rows skip..skip+n, each line bounded by `limit` bytes and all of
    them by READ_BUDGET; blank lines are rows only when `blank`."""
    taken = seen = 0
    for lineno, offset, raw in iter_lines(path, limit):
        if taken >= n:
            return
        if not blank and not raw.strip():
            continue
        seen += 1
        if seen > skip:
            taken += 1
            yield lineno, decode_line(path, lineno, offset, raw).removesuffix("\r")


def _jsonl_rows(path: Path, skip: int, n: int, limit: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for lineno, text in _lines(path, limit, skip, n, blank=False):
        value = parse_json_line(path, lineno, text)
        out.append(value if isinstance(value, dict) else {"text": str(value)})
    return out


def _csv_rows(path: Path, skip: int, n: int, limit: int) -> tuple[list[dict[str, Any]], list[str]]:
    """(rows skip..skip+n, the header); a quoted field may span lines."""
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    csv.field_size_limit(max(csv.field_size_limit(), limit))
    lines = (text + "\n" for _, text in _lines(path, limit, 0, 2**62, blank=True))
    reader = csv.DictReader(lines, delimiter=delimiter)
    try:
        rows = [dict(r) for r in itertools.islice(reader, skip, skip + n)]
        header = list(reader.fieldnames or [])
    except csv.Error as exc:
        raise DataError(
            f"data.source: {path.name} line {reader.line_num} is not CSV: {exc}"
        ) from None
    return rows, header


def _parquet_rows(path: Path, skip: int, n: int) -> tuple[list[dict[str, Any]], list[str], int]:
    pf = check_parquet(path)
    rows: list[dict[str, Any]] = []
    seen = 0
    for batch in pf.iter_batches(batch_size=max(64, n)):
        for row in batch.to_pylist():
            if seen >= skip:
                rows.append(row)
            seen += 1
            if len(rows) >= n:
                break
        if len(rows) >= n:
            break
    return rows, list(pf.schema_arrow.names), pf.metadata.num_rows


def preview_rows(data: DataSection, n: int = 20, split: str | None = None) -> DataPreview:
    """The first `n` rows of the split (after a simple `name[a:b]` slice) with the columns."""
    source = resolve_data_ref(data.source)
    split = split or data.split
    m = SLICE.match(split.replace(" ", ""))
    if not is_local_source(source):
        return _stream(data, source, split, m, n)
    path = Path(os.path.expanduser(source))
    if not path.exists():
        raise DataError(f"data.source: {source} does not exist")
    _builder, files, _extra = _local_builder(path)
    first = Path(files if isinstance(files, str) else files[0])
    for f in [files] if isinstance(files, str) else files:
        require_regular(Path(f))
    if not any(Path(f).stat().st_size for f in ([files] if isinstance(files, str) else files)):
        raise DataError(f"data.source: {source} is empty (0 rows)")
    if m is None or m.group("name") != "train":
        return _via_datasets(data, source, split, n)
    start = int(m.group("start") or 0)
    stop = int(m.group("stop")) if m.group("stop") else None
    take = n if stop is None else max(0, min(n, stop - start))
    suffix = first.suffix.lower()
    several = not isinstance(files, str) and len(files) > 1
    if suffix == ".json" and first.stat().st_size > SMALL_JSON_BYTES:
        return _via_datasets(data, source, split, n)
    total: int | None
    limit = data.max_row_bytes
    if suffix == ".parquet":
        rows, columns, total = _parquet_rows(first, start, take)
    elif suffix == ".jsonl":
        rows, total = _jsonl_rows(first, start, take, limit), count_lines(first)
        columns = list(dict.fromkeys(k for r in rows for k in r))
    elif suffix in (".csv", ".tsv"):
        rows, columns = _csv_rows(first, start, take, limit)
        total = None if (c := count_lines(first)) is None else max(0, c - 1)
    elif suffix == ".txt":  # blank lines are rows, as datasets reads them
        rows = [{"text": t} for _, t in _lines(first, limit, start, take, blank=True)]
        columns, total = ["text"], count_lines(first, blank=True)
    else:  # a small .json file: parse it whole
        scan_file(first, limit)
        try:
            value = json.loads(first.read_text("utf-8") or "[]")
        except RecursionError:
            raise DataError(
                f"data.source: {first.name} is nested too deeply to parse (Python's recursion "
                "limit); flatten its rows"
            ) from None
        except ValueError:  # JSON lines in a .json file: datasets reads those too
            return _via_datasets(data, source, split, n)
        if not isinstance(value, list):  # read it the way training will
            return _via_datasets(data, source, split, n)
        items = value
        rows = [r for r in items[start : start + take] if isinstance(r, dict)]
        columns, total = list(dict.fromkeys(k for r in rows for k in r)), len(items)
    if total is not None:
        total = max(0, min(total, stop if stop is not None else total) - start)
    if several:
        total = None
    note = f"first {len(rows)} rows of {first.name}" if suffix in LOCAL_BUILDERS else ""
    return DataPreview(data.source, columns, rows, total, True, note)


def _via_datasets(data: DataSection, source: str, split: str, n: int) -> DataPreview:
    ds = load_split(data, split)
    rows = [ds[i] for i in range(min(n, len(ds)))]
    return DataPreview(data.source, list(ds.column_names), rows, len(ds), False, "loaded whole")


def _stream(data: DataSection, source: str, split: str, m: Any, n: int) -> DataPreview:
    """A hub dataset through `streaming=True`: only the first rows are fetched."""
    import datasets

    name = m.group("name") if m else split.split("[", 1)[0]
    start = int(m.group("start") or 0) if m else 0
    try:
        ds = datasets.load_dataset(source, data.subset, split=name, streaming=True)
        rows = [dict(r) for r in itertools.islice(iter(ds), start, start + n)]
    except Exception as exc:  # offline, missing dataset, wrong split: one readable line
        text = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        field_name = "data.split" if "split" in text.lower() else "data.source"
        raise DataError(f"{field_name}: cannot preview {source!r} ({split}): {text}") from None
    total = None
    info = getattr(ds, "info", None)
    splits = getattr(info, "splits", None) or {}
    if name in splits:
        total = splits[name].num_examples
    columns = list(getattr(ds, "column_names", None) or dict.fromkeys(k for r in rows for k in r))
    return DataPreview(data.source, columns, rows, total, True, f"first {len(rows)} rows, streamed")


@dataclass
class DataInspection:
    """The first rows plus the format and mapping the data step proposes for them."""

    preview: DataPreview
    detection: Any  # formats.Detection, or None when `problem` says why not
    problem: str | None = None


def inspect_dataset(data: DataSection, n: int = 20) -> DataInspection:
    """Read the first `n` rows and resolve the mapping (the spec's, or a detected one).

    Raises DataError when the source cannot be read; a mapping problem (a mapped column that
    does not exist, a format that does not fit) is returned in `problem` with the rows, so the
    user sees the real columns next to the message."""
    from ftui.core.data.dataset import resolve_mapping

    pv = preview_rows(data, n=n)
    if not pv.rows:
        return DataInspection(pv, None, f"data.split: {data.split!r} has no rows (0 rows)")
    try:
        return DataInspection(pv, resolve_mapping(data, pv.columns, pv.rows[:50]))
    except DataError as exc:
        return DataInspection(pv, None, str(exc))


def hub_choices(source: str, subset: str | None = None) -> tuple[list[str], list[str]]:
    """(subsets, splits) of a hub dataset, for the wizard's pickers. Needs the network (or the
    datasets cache); raises DataError with one readable line otherwise."""
    import datasets

    try:
        subsets = list(datasets.get_dataset_config_names(source))
        chosen = subset or (subsets[0] if subsets else None)
        splits = list(datasets.get_dataset_split_names(source, chosen))
    except Exception as exc:  # offline, unknown, gated: one line
        text = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        if os.environ.get("HF_HUB_OFFLINE") == "1":
            text = "offline (HF_HUB_OFFLINE=1): type the subset and split"
        raise DataError(
            f"data.source: cannot list subsets and splits of {source!r}: {text}"
        ) from None
    return subsets, splits
