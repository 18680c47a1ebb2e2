"""Local data files read with bounded bytes: per row, and in total for "the first rows".

A broken or hostile file (one 50 MB line, a gigabyte of NUL bytes, invalid UTF-8, JSON nested
100,000 deep, a FIFO, /dev/zero, a text file named .parquet) is refused with one line naming
the file, the line and byte offset, and the fix, before a parser or a tokenizer sees it.
`iter_lines` gives the first rows of a line-based file (preview, the Data step);
`scan_file` checks a whole file in fixed memory and linear time before `datasets` loads it.
"""

from __future__ import annotations

import codecs
import json
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ftui.core.data.formats import DataError
from ftui.core.units import MiB, human_bytes

READ_BUDGET = 64 * MiB  # "the first rows" read at most this much in all
MEASURE_CAP = 256 * MiB  # an over-long row is measured up to here, then reported as "over"
CHUNK = 1 * MiB
LINE_SUFFIXES = (".jsonl", ".csv", ".tsv", ".txt")  # one row a line (a CSV row at least one)


def require_regular(path: Path) -> None:
    """A FIFO, a device (/dev/zero) or a socket is not a data file: reading it never ends
    or blocks."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise DataError(f"data.source: cannot read {path}: {exc.strerror}") from None
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return
    kind = (
        "a FIFO"
        if stat.S_ISFIFO(mode)
        else "a device"
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
        else "a socket"
        if stat.S_ISSOCK(mode)
        else "a special file"
    )
    raise DataError(
        f"data.source: {path} is not a regular file ({kind}); point data.source at a "
        "json, jsonl, csv, tsv, parquet or txt file, or a directory of them"
    )


def too_long(path: Path, line: int, offset: int, size: int, limit: int, over: bool) -> DataError:
    size_text = f"over {human_bytes(size)}" if over else human_bytes(size)
    raise_to = 1 << max(20, (size - 1).bit_length())
    return DataError(
        f"data.max_row_bytes: {path.name} line {line} (at byte {offset}) is {size_text}, over "
        f"the row limit data.max_row_bytes={limit} ({human_bytes(limit)}); split or shorten "
        f"that row, or raise the limit: --set data.max_row_bytes={raise_to}"
    )


def _measure(fh: Any, have: int) -> tuple[int, bool]:
    """The length of the rest of an over-long line, reading on (in chunks) up to MEASURE_CAP."""
    size = have
    while size < MEASURE_CAP:
        chunk = fh.read(CHUNK)
        if not chunk:
            return size, False
        cut = chunk.find(b"\n")
        if cut >= 0:
            return size + cut, False
        size += len(chunk)
    return size, True


def iter_lines(
    path: Path, max_row_bytes: int, budget: int | None = 0
) -> Iterator[tuple[int, int, bytes]]:
    """(line number from 1, byte offset, line without its newline), reading at most
    `max_row_bytes` for one line and about `budget` bytes in all (0: READ_BUDGET; None: no
    total limit), then it stops early."""
    budget = READ_BUDGET if budget == 0 else budget
    with open(path, "rb") as fh:
        buf, pos, base = b"", 0, 0  # base: the file offset of buf[0]
        line = read = 0
        while True:
            cut = buf.find(b"\n", pos)
            if cut >= 0:
                if cut - pos > max_row_bytes:
                    raise too_long(path, line + 1, base + pos, cut - pos, max_row_bytes, False)
                line += 1
                yield line, base + pos, buf[pos:cut]
                pos = cut + 1
                continue
            if len(buf) - pos > max_row_bytes:
                size, over = _measure(fh, len(buf) - pos)
                raise too_long(path, line + 1, base + pos, size, max_row_bytes, over)
            if budget is not None and read >= budget:
                return
            chunk = fh.read(CHUNK)
            if not chunk:
                if pos < len(buf):
                    yield line + 1, base + pos, buf[pos:]
                return
            read += len(chunk)
            base += pos
            buf, pos = buf[pos:] + chunk, 0


def decode_line(path: Path, line: int, offset: int, raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise not_utf8(path, line, offset + exc.start, raw[exc.start : exc.start + 4]) from None


def not_utf8(path: Path, line: int | None, offset: int, bad: bytes) -> DataError:
    where = f"line {line}, byte {offset}" if line is not None else f"byte {offset}"
    return DataError(
        f"data.source: {path.name} is not valid UTF-8 at {where} ({bad!r}); re-save the file as "
        "UTF-8 (e.g. `iconv -f latin1 -t utf-8 in > out`)"
    )


def parse_json_line(path: Path, line: int, text: str) -> Any:
    try:
        return json.loads(text)
    except RecursionError:
        raise DataError(
            f"data.source: {path.name} line {line} is nested too deeply to parse (Python's "
            "recursion limit); flatten that row"
        ) from None
    except ValueError as exc:
        raise DataError(f"data.source: {path.name} line {line} is not JSON: {exc}") from None


def scan_file(path: Path, max_row_bytes: int) -> None:
    """Check a whole local file in fixed memory and linear time: a regular file, UTF-8, and
    (for line-based files) no line over `max_row_bytes`; a .json file must start like JSON."""
    require_regular(path)
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        check_parquet(path)
        return
    lines = suffix in LINE_SUFFIXES
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0  # file offset of the chunk
    line = 1
    run = 0  # bytes of the current line so far
    line_start = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            if offset == 0 and suffix == ".json":  # before reading on: a NUL file is not JSON
                _json_start(path, chunk)
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                at = exc.start
                nl = chunk.count(b"\n", 0, at)
                raise not_utf8(path, line + nl, offset + at, chunk[at : at + 4]) from None
            if lines:
                parts = chunk.split(b"\n")
                for i, part in enumerate(parts):
                    run += len(part)
                    if run > max_row_bytes:
                        size, over = _measure(fh, run) if i == len(parts) - 1 else (run, False)
                        raise too_long(path, line, line_start, size, max_row_bytes, over)
                    if i < len(parts) - 1:
                        line += 1
                        line_start += run + 1
                        run = 0
            else:
                line += chunk.count(b"\n")
            offset += len(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise not_utf8(path, None, offset - 1, b"") from None


def _json_start(path: Path, chunk: bytes) -> None:
    head = chunk.lstrip()
    if head[:1] not in (b"[", b"{") and (head or len(chunk) == CHUNK):
        raise DataError(
            f"data.source: {path.name} is not JSON (it starts with {chunk[:8]!r}); a .json file "
            "holds a JSON array of rows or JSON lines"
        )


def check_parquet(path: Path) -> Any:
    """The file's ParquetFile, or a DataError when it is not one."""
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, ...
        text = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise DataError(
            f"data.source: {path.name} is not a Parquet file ({text}); give the file the "
            "extension of its real format (.jsonl, .csv, .txt)"
        ) from None


def count_lines(path: Path, blank: bool = False, limit: int = 256 * MiB) -> int | None:
    """Rows in a line-based file (blank lines too when `blank`), in fixed memory; None past
    `limit` bytes (unknown without reading everything)."""
    if path.stat().st_size > limit:
        return None
    count = 0
    seen = content = False  # the current line has a byte / a non-blank byte
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            parts = chunk.split(b"\n")
            for i, part in enumerate(parts):
                seen = seen or bool(part)
                content = content or bool(part.strip())
                if i < len(parts) - 1:  # a newline ends the line
                    count += blank or content
                    seen = content = False
    return count + (seen and (blank or content))


def text_bytes(text: str) -> int:
    """UTF-8 size of a string, without encoding it when it is ASCII."""
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def row_size_error(index: int, size: int, limit: int) -> DataError:
    raise_to = 1 << max(20, (size - 1).bit_length())
    return DataError(
        f"data.max_row_bytes: row {index} holds {human_bytes(size)} of text, over the row limit "
        f"data.max_row_bytes={limit} ({human_bytes(limit)}); shorten or drop that row, or raise "
        f"the limit: --set data.max_row_bytes={raise_to}"
    )
