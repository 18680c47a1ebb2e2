"""Datasets: load (hub or local file), detect the format, map columns, tokenise with masks.

Heavy imports (datasets) are deferred into functions.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ftui.core.demo import resolve_data_ref
from ftui.core.spec import DataSection, RunSpec
from ftui.core.templates import Conversation, Message, render, tokenize_segments

LOCAL_BUILDERS = {
    ".json": "json",
    ".jsonl": "json",
    ".csv": "csv",
    ".tsv": "csv",
    ".parquet": "parquet",
    ".txt": "text",
}
PROMPT_NAMES = (
    "prompt",
    "question",
    "query",
    "instruction",
    "input_text",
    "document",
    "dialogue",
    "article",
    "source",
    "context",
    "request",
    "user",
    "human",
    "problem",
)
RESPONSE_NAMES = (
    "response",
    "answer",
    "output",
    "completion",
    "summary",
    "target",
    "reply",
    "assistant",
    "gpt",
    "solution",
    "label_text",
    "chosen",
    "highlights",
)
CHAT_NAMES = ("messages", "conversations", "conversation", "chat", "dialog", "turns")
USER_ROLES = {"user", "human", "prompter", "question"}
ASSISTANT_ROLES = {"assistant", "gpt", "bot", "model", "chatbot", "answer"}


class DataError(ValueError):
    """A dataset problem, with the field to fix in the message."""


@dataclass
class Detection:
    format: str
    columns: dict[str, str]
    reasons: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


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


def load_split(data: DataSection, split: str | None = None):  # type: ignore[no-untyped-def]
    """A `datasets.Dataset` for one split expression (e.g. train[:2000])."""
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
            ds = datasets.load_dataset(builder, data_files=files, split=split, **extra)
        else:
            ds = datasets.load_dataset(source, data.subset, split=split)
    except DataError:
        raise
    except ValueError as exc:
        msg = str(exc)
        if "split" in msg.lower():
            raise DataError(
                f"data.split: {split!r} does not exist here ({_first_line(msg)})"
            ) from None
        raise DataError(f"data.source: cannot load {source!r}: {_first_line(msg)}") from None
    except FileNotFoundError as exc:
        raise DataError(f"data.source: {source!r} not found: {_first_line(str(exc))}") from None
    except Exception as exc:  # datasets raises many types for hub/offline/parse problems
        hint = ""
        if os.environ.get("HF_HUB_OFFLINE") == "1" or "offline" in str(exc).lower():
            hint = " (offline: only local files and datasets already in the cache work)"
        raise DataError(
            f"data.source: cannot load {source!r}: {type(exc).__name__}: {_first_line(str(exc))}{hint}"
        ) from None
    return ds


def _first_line(text: str) -> str:
    return (text.strip().splitlines() or [""])[0][:300]


def load_train_eval(spec: RunSpec):  # type: ignore[no-untyped-def]
    """(train, eval or None) with the eval split resolved: a split, a slice or a fraction."""
    train = load_split(spec.data)
    ev = spec.data.eval_split
    if not ev:
        return train, None
    if re.fullmatch(r"0?\.\d+", ev.strip()):
        frac = float(ev)
        if not 0 < frac < 1 or len(train) < 2:
            raise DataError(f"data.eval_split: fraction {ev} needs 0 < f < 1 and at least 2 rows")
        parts = train.train_test_split(test_size=frac, seed=spec.train.seed)
        return parts["train"], parts["test"]
    return train, load_split(spec.data, ev)


# --- format detection ------------------------------------------------------------------------


def _is_chat(value: Any) -> bool:
    if not isinstance(value, list) or not value:
        return False
    first = value[0]
    return isinstance(first, dict) and (
        ("role" in first and "content" in first) or ("from" in first and "value" in first)
    )


def _avg_len(rows: list[dict[str, Any]], col: str) -> float:
    vals = [len(str(r.get(col) or "")) for r in rows]
    return sum(vals) / max(1, len(vals))


def detect_format(columns: list[str], sample: list[dict[str, Any]]) -> Detection:
    """Propose a format and a role -> column mapping, with the reason for each choice."""
    lower = {c.lower(): c for c in columns}
    strings = [
        c
        for c in columns
        if sample and all(isinstance(r.get(c), (str, type(None))) for r in sample)
    ]
    for col in columns:
        if sample and _is_chat(sample[0].get(col)):
            det = Detection("chat", {"messages": col}, [f"`{col}` holds a list of chat turns"])
            return _finish(det, columns)
    if "instruction" in lower and "output" in lower:
        cols = {"prompt": lower["instruction"], "response": lower["output"]}
        reasons = ["alpaca-style `instruction`/`output` columns"]
        if "input" in lower:
            cols["input"] = lower["input"]
            reasons.append("`input` is the optional context")
        return _finish(Detection("instruction", cols, reasons), columns)
    prompt = next((lower[n] for n in PROMPT_NAMES if n in lower and lower[n] in strings), None)
    response = next((lower[n] for n in RESPONSE_NAMES if n in lower and lower[n] in strings), None)
    if prompt and response and prompt != response:
        det = Detection(
            "prompt_completion",
            {"prompt": prompt, "response": response},
            [f"`{prompt}` is named like a prompt", f"`{response}` is named like a response"],
        )
        return _finish(det, columns)
    if len(strings) == 1 or (strings and "text" in lower and lower["text"] in strings):
        col = lower.get("text", strings[0])
        return _finish(
            Detection("text", {"text": col}, [f"`{col}` is the only text column"]), columns
        )
    if len(strings) >= 2:
        ranked = sorted(strings, key=lambda c: _avg_len(sample, c), reverse=True)
        p, r = ranked[0], ranked[1]
        det = Detection(
            "prompt_completion",
            {"prompt": p, "response": r},
            [
                f"`{p}` looks like the prompt: long text (avg {_avg_len(sample, p):.0f} chars)",
                f"`{r}` like the response (avg {_avg_len(sample, r):.0f} chars)",
            ],
        )
        return _finish(det, columns)
    raise DataError(
        f"data.format: cannot tell the format from columns {', '.join(columns) or '(none)'}; "
        "set data.format and data.columns"
    )


def _finish(det: Detection, columns: list[str]) -> Detection:
    used = set(det.columns.values())
    det.ignored = [c for c in columns if c not in used]
    return det


def resolve_mapping(
    data: DataSection, columns: list[str], sample: list[dict[str, Any]]
) -> Detection:
    """The spec's format and columns, filling what is left to auto; checks every column exists."""
    if data.columns:
        missing = [f"{role} -> {col}" for role, col in data.columns.items() if col not in columns]
        if missing:
            raise DataError(
                f"data.columns: column {missing[0].split(' -> ')[1]!r} (for role "
                f"{missing[0].split(' -> ')[0]}) does not exist; columns: {', '.join(columns)}"
            )
        fmt = data.format
        if fmt == "auto":
            fmt = _format_from_roles(data.columns)
        det = Detection(fmt, dict(data.columns), ["mapped in the spec"])
        return _finish(det, columns)
    det = detect_format(columns, sample)
    if data.format != "auto" and data.format != det.format:
        raise DataError(
            f"data.format: {data.format} but the columns look like {det.format} "
            f"({'; '.join(det.reasons)}); map data.columns explicitly"
        )
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
        msgs = [_message(m) for m in (row.get(cols["messages"]) or [])]
        msgs = [m for m in msgs if m is not None]
        if system:
            msgs.insert(0, Message("system", system))
        return Conversation(msgs)
    prompt = str(row.get(cols.get("prompt", ""), "") or "")
    response = str(row.get(cols.get("response", ""), "") or "")
    extra = str(row.get(cols["input"]) or "") if "input" in cols else ""
    msgs = [Message("user", prompt), Message("assistant", response)]
    if system:
        msgs.insert(0, Message("system", system))
    return Conversation(msgs, input=extra or None)


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


@dataclass
class TokenStats:
    rows: int = 0
    kept: int = 0
    no_trained: int = 0
    truncated: int = 0
    tokens: int = 0
    trained_tokens: int = 0
    lengths: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in self.__dict__.items() if k != "lengths"}
        return d


def tokenize_row(
    row: dict[str, Any], det: Detection, spec: RunSpec, tokenizer: Any
) -> tuple[list[int], list[int], bool]:
    conv = row_to_conversation(row, det)
    segs = render(spec.template, conv, tokenizer)
    ids, labels = tokenize_segments(segs, tokenizer)
    truncated = len(ids) > spec.data.max_seq_len
    return ids[: spec.data.max_seq_len], labels[: spec.data.max_seq_len], truncated


def tokenize_dataset(ds, det: Detection, spec: RunSpec, tokenizer: Any):  # type: ignore[no-untyped-def]
    """(tokenised datasets.Dataset with input_ids/labels/length, TokenStats). Rows with nothing
    to train are dropped (and counted)."""
    import datasets

    stats = TokenStats()
    out: dict[str, list[Any]] = {"input_ids": [], "labels": [], "length": []}
    for row in ds:
        ids, labels, truncated = tokenize_row(row, det, spec, tokenizer)
        stats.rows += 1
        stats.truncated += int(truncated)
        trained = sum(1 for x in labels if x != -100)
        stats.lengths.append(len(ids))
        if trained == 0:
            stats.no_trained += 1
            continue
        stats.kept += 1
        stats.tokens += len(ids)
        stats.trained_tokens += trained
        out["input_ids"].append(ids)
        out["labels"].append(labels)
        out["length"].append(len(ids))
    return datasets.Dataset.from_dict(out), stats


def data_fingerprint(spec: RunSpec, tokenizer_dir: str) -> str:
    """Identity of the tokenised data: source (and file stats), split, mapping, template,
    tokenizer files and max_seq_len. Resume compares it; the token cache is keyed by it."""
    h = hashlib.sha256()
    source = resolve_data_ref(spec.data.source)
    parts: dict[str, Any] = {
        "data": spec.data.model_dump(mode="json", exclude={"packing", "eval_split"}),
        "template": spec.template.model_dump(mode="json"),
        "version": 1,
    }
    if is_local_source(source):
        p = Path(source)
        files = sorted(p.rglob("*")) if p.is_dir() else [p]
        parts["files"] = [
            (str(f), f.stat().st_size, f.stat().st_mtime_ns) for f in files if f.is_file()
        ]
    h.update(json.dumps(parts, sort_keys=True).encode())
    tdir = Path(tokenizer_dir)
    for name in ("tokenizer.json", "tokenizer_config.json", "tokenizer.model"):
        f = tdir / name
        if f.is_file():
            h.update(f.read_bytes())
    if not tdir.is_dir():
        h.update(tokenizer_dir.encode())
    return h.hexdigest()[:16]
