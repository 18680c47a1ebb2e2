"""Datasets: load (hub or local file), detect the format, map columns, tokenise with masks.

Heavy imports (datasets) are deferred into functions.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

from ftui.core.data import eval_split
from ftui.core.data.bounded import row_size_error, scan_file, text_bytes
from ftui.core.data.formats import (
    ASSISTANT_ROLES,
    USER_ROLES,
    DataError,
    Detection,
    detect_format,
    split_marked_turns,
    text_columns,
)
from ftui.core.data.row_stats import RowStats
from ftui.core.demo import resolve_data_ref
from ftui.core.prompt.encode import encode
from ftui.core.prompt.templates import Conversation, Message, TemplateError
from ftui.core.spec import DataSection, RunSpec

__all__ = [
    "DataError",
    "Detection",
    "RowStats",
    "carry_mapping",
    "data_fingerprint",
    "detect_format",
    "load_split",
    "load_train_eval",
    "resolve_mapping",
    "row_to_conversation",
    "tokenize_dataset",
]

LOCAL_BUILDERS = {
    ".json": "json",
    ".jsonl": "json",
    ".csv": "csv",
    ".tsv": "csv",
    ".parquet": "parquet",
    ".txt": "text",
}


# --- loading ---------------------------------------------------------------------------------


def _local_builder(path: Path) -> tuple[str, Any, dict[str, Any]]:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in LOCAL_BUILDERS)
        if not files:
            raise DataError(
                f"data.source: {path} holds no json, jsonl, csv, tsv, parquet or txt files"
            )
        suffix = files[0].suffix.lower()
        files = [p for p in files if p.suffix.lower() == suffix]
        data_files: Any = [str(p) for p in files]
    else:
        suffix = path.suffix.lower()
        data_files = str(path)
    if suffix not in LOCAL_BUILDERS:
        raise DataError(
            f"data.source: {path.name} has an unsupported extension {suffix!r}; "
            f"use one of {', '.join(LOCAL_BUILDERS)}"
        )
    extra = {"delimiter": "\t"} if suffix == ".tsv" else {}
    return LOCAL_BUILDERS[suffix], data_files, extra


def is_local_source(source: str) -> bool:
    source = resolve_data_ref(source)
    return source.startswith(("/", "./", "../", "~")) or Path(source).exists()


def load_split(data: DataSection, split: str | None = None, field_name: str = "data.split") -> Any:
    """A `datasets.Dataset` for one split expression (e.g. train[:2000]).

    Problems raise DataError naming `field_name` (data.split or data.eval_split) or data.source.
    """
    import datasets

    source = resolve_data_ref(data.source)
    split = split or data.split
    datasets.disable_progress_bars()
    try:
        if is_local_source(source):
            path = Path(os.path.expanduser(source))
            if not path.exists():
                raise DataError(f"data.source: {source} does not exist")
            builder, files, extra = _local_builder(path)
            paths = [Path(f) for f in ([files] if isinstance(files, str) else files)]
            for f in paths:  # fixed memory, linear: before datasets parses anything
                scan_file(f, data.max_row_bytes)
            if not any(f.stat().st_size for f in paths):
                raise DataError(f"data.source: {source} is empty (0 rows)")
            ds = datasets.load_dataset(builder, data_files=files, split=split, **extra)
        else:
            ds = datasets.load_dataset(source, data.subset, split=split)
    except DataError:
        raise
    except ValueError as exc:
        msg = _first_line(str(exc))
        if "corresponds to no data" in msg:
            raise DataError(f"{field_name}: {split!r} selects no rows from {source}") from None
        if "split" in msg.lower():
            raise DataError(f"{field_name}: {split!r} does not exist here ({msg})") from None
        raise DataError(f"data.source: cannot load {source!r}: {msg}") from None
    except FileNotFoundError as exc:
        raise DataError(f"data.source: {source!r} not found: {_first_line(str(exc))}") from None
    except Exception as exc:  # datasets raises many types for hub/offline/parse problems
        hint = ""
        if os.environ.get("HF_HUB_OFFLINE") == "1" or "offline" in str(exc).lower():
            hint = " (offline: only local files and datasets already in the cache work)"
        raise DataError(
            f"data.source: cannot load {source!r}: {type(exc).__name__}: "
            f"{_first_line(str(exc))}{hint}"
        ) from None
    return ds


def _first_line(text: str) -> str:
    return (text.strip().splitlines() or [""])[0][:300]


def load_train_eval(spec: RunSpec) -> tuple[Any, Any | None]:
    """(train, eval or None). data.eval_split is auto (a seeded few percent held out of the train
    split, off for small data: `eval_split`), none, a named split (`validation`), a slice
    (`train[95%:]`) or a held-out fraction of the train split (`0.1`, split with train.seed)."""
    train = load_split(spec.data)
    ev = (spec.data.eval_split or "").strip()
    if eval_split.is_off(ev):
        return train, None
    if eval_split.is_auto(ev):
        plan = eval_split.auto_plan(len(train), spec.train.seed)
        if not plan.held_out:
            return train, None
        return eval_split.hold_out(train, plan.held_out, spec.train.seed)
    if re.fullmatch(r"0?\.\d+|\d+(\.\d+)?%", ev):
        frac = float(ev[:-1]) / 100 if ev.endswith("%") else float(ev)
        if not 0 < frac < 1 or len(train) < 2:
            raise DataError(
                f"data.eval_split: a held-out fraction needs 0 < f < 1 and at least 2 rows "
                f"(got {ev} of {len(train)} rows)"
            )
        parts = train.train_test_split(test_size=frac, seed=spec.train.seed)
        return parts["train"], parts["test"]
    return train, load_split(spec.data, ev, field_name="data.eval_split")


FORMAT_ROLES = {
    "chat": ("messages",),
    "text": ("text",),
    # no response column is allowed: each prompt is trained on itself (train_on_input), as
    # the llama2-7b-full-wikitext preset does; preflight refuses when nothing is trained
    "instruction": ("prompt",),
    "prompt_completion": ("prompt",),
}


def resolve_mapping(
    data: DataSection, columns: list[str], sample: list[dict[str, Any]]
) -> Detection:
    """The spec's format and columns, detecting what is left to auto; checks every column
    exists (naming the ones that do) and that the format's roles are mapped."""
    have = ", ".join(columns) or "(none)"
    if data.columns:
        for role, col in data.columns.items():
            if col not in columns:
                raise DataError(
                    f"data.columns: column {col!r} (for role {role}) does not exist; "
                    f"columns: {have}"
                )
        fmt = data.format if data.format != "auto" else _format_from_roles(data.columns)
        missing = [r for r in FORMAT_ROLES[fmt] if r not in data.columns]
        if missing:
            raise DataError(
                f"data.columns: format {fmt} needs a {missing[0]!r} column mapped "
                f"(mapped: {', '.join(sorted(data.columns))}); columns: {have}"
            )
        return _finish(Detection(fmt, dict(data.columns), ["mapped in the spec"]), columns)
    det = detect_format(columns, sample)
    want = data.format
    if want in ("auto", det.format):
        return det
    if want == "chat" and det.style == "guanaco":
        col = det.columns["text"]
        reasons = [f"`{col}` is split into turns on ### Human: / ### Assistant:"]
        return _finish(Detection("chat", {"messages": col}, reasons, style="guanaco"), columns)
    if {want, det.format} <= {"instruction", "prompt_completion"}:
        det.format = want
        return det
    texts = text_columns(columns, sample)
    if want == "text" and texts:
        col = "text" if "text" in texts else texts[0]
        return _finish(Detection("text", {"text": col}, [f"`{col}` is a text column"]), columns)
    raise DataError(
        f"data.format: {want} but the columns look like {det.format} "
        f"({'; '.join(det.reasons)}); map data.columns explicitly; columns: {have}"
    )


# The roles each format reads (FORMAT_ROLES are the ones it needs).
FORMAT_USES = {
    "chat": ("messages", "system"),
    "text": ("text",),
    "instruction": ("prompt", "input", "response", "system"),
    "prompt_completion": ("prompt", "input", "response", "system"),
}


def carry_mapping(
    data: DataSection, columns: list[str], sample: list[dict[str, Any]]
) -> tuple[str, dict[str, str]]:
    """(format, columns) for a new source: the spec's choices whose columns exist in it, and
    the detected columns for the roles its format reads that are left. Nothing kept: `auto`
    and no columns, so the new source's own detection is what the spec resolves to."""
    kept = {role: col for role, col in data.columns.items() if col in columns}
    if not kept:
        return "auto", {}
    fmt = data.format if data.format != "auto" else _format_from_roles(kept)
    try:
        det = detect_format(columns, sample)
    except DataError:
        return data.format, kept
    for role, col in det.columns.items():
        if role in FORMAT_USES[fmt] and role not in kept and col not in kept.values():
            kept[role] = col
    return data.format, kept


def _finish(det: Detection, columns: list[str]) -> Detection:
    used = set(det.columns.values())
    det.ignored = [c for c in columns if c not in used]
    return det


def _format_from_roles(cols: dict[str, str]) -> str:
    if "messages" in cols:
        return "chat"
    if "text" in cols and "response" not in cols:
        return "text"
    return "instruction" if "input" in cols else "prompt_completion"


# --- rows to conversations and tokens --------------------------------------------------------


def row_to_conversation(row: dict[str, Any], det: Detection) -> Conversation:
    cols = det.columns
    system = str(row.get(cols["system"]) or "") if "system" in cols else None
    if det.format == "text":
        return Conversation([], text=str(row.get(cols["text"]) or ""))
    if det.format == "chat":
        value = row.get(cols["messages"]) or []
        if isinstance(value, str):
            msgs = [Message(role, text) for role, text in split_marked_turns(value)]
        else:
            msgs = [m for m in (_message(x) for x in value) if m is not None]
        if system and not (msgs and msgs[0].role == "system"):
            msgs.insert(0, Message("system", system))
        return Conversation(msgs)
    prompt = str(row.get(cols.get("prompt", ""), "") or "")
    response = str(row.get(cols.get("response", ""), "") or "")
    extra = str(row.get(cols["input"]) or "") if "input" in cols else ""
    msgs = [Message("user", prompt)]
    if "response" in cols:  # a prompt-only mapping trains the prompt itself (train_on_input)
        msgs.append(Message("assistant", response))
    if system:
        msgs.insert(0, Message("system", system))
    return Conversation(msgs, input=extra or None)


def check_row_size(conv: Conversation, index: int, limit: int) -> int:
    """The row's text size; refuses a row over data.max_row_bytes before it is rendered and
    tokenised (a 50 MB row would take gigabytes and minutes there)."""
    parts = [conv.text or "", conv.input or "", *(m.content for m in conv.messages)]
    size = sum(map(text_bytes, parts))
    if size > limit:
        raise row_size_error(index, size, limit)
    return size


def _message(m: Any) -> Message | None:
    if not isinstance(m, dict):
        return None
    role = str(m.get("role", m.get("from", ""))).lower()
    content = m.get("content", m.get("value", ""))
    if role in USER_ROLES:
        role = "user"
    elif role in ASSISTANT_ROLES:
        role = "assistant"
    elif role != "system":
        return None
    return Message(role, str(content or ""))


def empty_parts(conv: Conversation, det: Detection) -> tuple[bool, bool]:
    """(empty prompt, empty response) of a row, as the lens and the worker count them."""
    if conv.text is not None:
        return False, not conv.text.strip()
    users = [m.content for m in conv.turns if m.role == "user"]
    answers = [m.content for m in conv.turns if m.role == "assistant"]
    # a prompt-only mapping (language modelling on the prompt) has no response to be empty
    has_response = "response" in det.columns or "messages" in det.columns
    return not any(u.strip() for u in users), has_response and not any(a.strip() for a in answers)


def tokenize_dataset(
    ds: Any, det: Detection, spec: RunSpec, tokenizer: Any
) -> tuple[Any, RowStats]:
    """(tokenised datasets.Dataset with input_ids/labels/length, RowStats). Rows are cut at
    data.max_seq_len; rows with nothing to train are dropped (and counted)."""
    import datasets

    cut = spec.data.max_seq_len
    stats = RowStats(max_seq_len=cut)
    out: dict[str, list[Any]] = {"input_ids": [], "labels": [], "length": []}
    for index, row in enumerate(ds):
        conv = row_to_conversation(row, det)
        check_row_size(conv, index, spec.data.max_row_bytes)
        try:
            enc = encode(spec.template, conv, tokenizer, max_len=cut)
        except TemplateError as exc:
            raise TemplateError(f"row {index + 1}: {exc}") from None  # counted from 1
        length, ids, labels = enc.length, enc.ids, enc.labels
        trained = sum(1 for x in labels if x != -100)
        stats.add(index, length, len(ids), trained, *empty_parts(conv, det))
        if trained == 0:
            continue
        out["input_ids"].append(ids)
        out["labels"].append(labels)
        out["length"].append(len(ids))
    return datasets.Dataset.from_dict(out), stats


CONTENT_HASH_LIMIT = 256 * 2**20  # hash files up to this size; bigger ones by size + mtime_ns


def _file_identity(f: Path) -> tuple[str, int, str]:
    """A file's path, size and content hash, so an edit that keeps the size and lands in the
    same second is still seen (size + mtime_ns for very large files)."""
    st = f.stat()
    if st.st_size > CONTENT_HASH_LIMIT:
        return (str(f), st.st_size, f"mtime:{st.st_mtime_ns}")
    digest = hashlib.sha256()
    with open(f, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return (str(f), st.st_size, digest.hexdigest())


def data_fingerprint(spec: RunSpec, tokenizer_dir: str) -> str:
    """Identity of the tokenised data: source (and file stats), split, mapping, template,
    tokenizer files and max_seq_len. Resume compares it; the token cache is keyed by it."""
    h = hashlib.sha256()
    source = resolve_data_ref(spec.data.source)
    parts: dict[str, Any] = {
        "data": spec.data.model_dump(
            mode="json", exclude={"packing", "eval_split", "max_row_bytes"}
        ),
        "template": spec.template.model_dump(mode="json"),
        "version": 3,  # 3: one tokenisation of the whole rendered text
    }
    if is_local_source(source):
        p = Path(source)
        files = sorted(p.rglob("*")) if p.is_dir() else [p]
        parts["files"] = [_file_identity(f) for f in files if f.is_file()]
    h.update(json.dumps(parts, sort_keys=True).encode())
    tdir = Path(tokenizer_dir)
    for name in ("tokenizer.json", "tokenizer_config.json", "tokenizer.model"):
        f = tdir / name
        if f.is_file():
            h.update(f.read_bytes())
    if not tdir.is_dir():
        h.update(tokenizer_dir.encode())
    return h.hexdigest()[:16]
