"""Format detection: which columns hold the prompt, the response, the chat turns or the text.

`detect_format(columns, sample_rows)` proposes a format and a role -> column mapping with a
reason for every choice, so the wizard and `ftui preview --json` can say *why*.

Formats recognised (the `style` says which flavour):
- chat (`openai`: a list of {role, content}; `sharegpt`: a list of {from, value})
- instruction (`alpaca`: instruction / input / output; `dolly`: instruction / context / response)
- prompt_completion (`pairs`: any two text columns; names, question marks, length and column
  order decide which is the prompt)
- text (`plain`; `guanaco`: one text column with `### Human: ... ### Assistant: ...` turns).
  Guanaco-style text is trained as plain text by default, as the QLoRA / TRL recipes for
  openassistant-guanaco do (the whole row is trained). To train only the assistant turns set
  `data.format=chat` and `data.columns.messages=<the text column>`: the turns are split on the
  markers (`split_marked_turns`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

PROMPT_WORDS = (
    "prompt",
    "question",
    "query",
    "instruction",
    "input",
    "document",
    "dialogue",
    "article",
    "source",
    "src",
    "context",
    "request",
    "user",
    "human",
    "problem",
    "post",
    "frage",
)
RESPONSE_WORDS = (
    "response",
    "answer",
    "output",
    "completion",
    "summary",
    "target",
    "tgt",
    "reply",
    "assistant",
    "gpt",
    "solution",
    "chosen",
    "highlights",
    "abstract",
    "antwort",
)
ID_NAMES = {"id", "idx", "index", "uuid", "key", "guid"}
USER_ROLES = {"user", "human", "prompter", "question"}
ASSISTANT_ROLES = {"assistant", "gpt", "bot", "model", "chatbot", "answer"}
GUANACO_MARK = re.compile(r"###\s*(Human|Assistant)\s*:", re.IGNORECASE)


@dataclass
class Detection:
    format: str
    columns: dict[str, str]
    reasons: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    style: str = ""


class DataError(ValueError):
    """A dataset problem, with the field to fix at the start of the message."""


def _words(name: str) -> list[str]:
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", name)
    return [w for w in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if w]


def role_hint(name: str) -> str | None:
    """'prompt' or 'response' when a column name says so (whole name first, then its words)."""
    low = name.lower()
    if low in PROMPT_WORDS:
        return "prompt"
    if low in RESPONSE_WORDS:
        return "response"
    words = _words(name)
    if any(w in RESPONSE_WORDS for w in words):
        return "response"
    if any(w in PROMPT_WORDS for w in words):
        return "prompt"
    return None


def is_chat_value(value: Any) -> bool:
    if not isinstance(value, list) or not value:
        return False
    first = value[0]
    return isinstance(first, dict) and (
        ("role" in first and "content" in first) or ("from" in first and "value" in first)
    )


def avg_len(rows: list[dict[str, Any]], col: str) -> float:
    vals = [len(str(r.get(col) or "")) for r in rows]
    return sum(vals) / max(1, len(vals))


def _question_share(rows: list[dict[str, Any]], col: str) -> float:
    vals = [str(r.get(col) or "").strip() for r in rows]
    vals = [v for v in vals if v]
    return sum(v.endswith("?") for v in vals) / max(1, len(vals))


def text_columns(columns: list[str], sample: list[dict[str, Any]]) -> list[str]:
    """String columns with some text that are not identifiers."""
    out = []
    for c in columns:
        vals = [r.get(c) for r in sample]
        if not vals or not all(isinstance(v, (str, type(None))) for v in vals):
            continue
        strs = [v for v in vals if v]
        if not strs or c.lower() in ID_NAMES or c.lower().endswith("_id"):
            continue
        if all(v.strip().isdigit() for v in strs):
            continue
        out.append(c)
    return out


def is_guanaco(sample: list[dict[str, Any]], col: str) -> bool:
    vals = [str(r.get(col) or "") for r in sample]
    hits = sum(1 for v in vals if GUANACO_MARK.search(v))
    return bool(vals) and hits >= max(1, len(vals) // 2)


def split_marked_turns(text: str) -> list[tuple[str, str]]:
    """[(role, content)] from `### Human: ... ### Assistant: ...` text."""
    parts = GUANACO_MARK.split(text)
    out: list[tuple[str, str]] = []
    for i in range(1, len(parts) - 1, 2):
        role = "user" if parts[i].lower() == "human" else "assistant"
        out.append((role, parts[i + 1].strip()))
    return out


def _finish(det: Detection, columns: list[str]) -> Detection:
    used = set(det.columns.values())
    det.ignored = [c for c in columns if c not in used]
    if det.ignored:
        det.reasons.append("ignored: " + ", ".join(f"`{c}`" for c in det.ignored))
    return det


def _add_system(det: Detection, lower: dict[str, str], texts: list[str]) -> None:
    col = lower.get("system") or lower.get("system_prompt")
    if col and col in texts:
        det.columns["system"] = col
        det.reasons.append(f"`{col}` is the system prompt")


def detect_format(columns: list[str], sample: list[dict[str, Any]]) -> Detection:
    """Propose a format and a role -> column mapping, with the reason for each choice."""
    lower = {c.lower(): c for c in columns}
    texts = text_columns(columns, sample)
    for col in columns:
        vals: list[Any] = [r.get(col) for r in sample if r.get(col) is not None]
        chats: list[list[dict[str, Any]]] = [v for v in vals if is_chat_value(v)]
        if chats and len(chats) * 2 >= len(vals):
            first = chats[0][0]
            style = "sharegpt" if "from" in first else "openai"
            keys = "from/value (ShareGPT)" if style == "sharegpt" else "role/content"
            det = Detection(
                "chat",
                {"messages": col},
                [f"`{col}` holds lists of turns with {keys}"],
                style=style,
            )
            _add_system(det, lower, texts)
            return _finish(det, columns)
    response = lower.get("output") or lower.get("response")
    if "instruction" in lower and response:
        cols = {"prompt": lower["instruction"], "response": response}
        style = "alpaca" if response == lower.get("output") else "dolly"
        reasons = [f"`{cols['prompt']}`/`{response}` columns ({style} style)"]
        extra = lower.get("input") or lower.get("context")
        if extra:
            cols["input"] = extra
            reasons.append(f"`{extra}` is the optional input")
        det = Detection("instruction", cols, reasons, style=style)
        _add_system(det, lower, texts)
        return _finish(det, columns)
    pair = _pick_pair(texts, sample)
    if pair is not None:
        p, r, reasons = pair
        det = Detection("prompt_completion", {"prompt": p, "response": r}, reasons, style="pairs")
        _add_system(det, lower, [t for t in texts if t not in (p, r)])
        return _finish(det, columns)
    if texts:
        col = (
            lower["text"]
            if lower.get("text") in texts
            else max(texts, key=lambda c: avg_len(sample, c))
        )
        why = (
            "the only text column"
            if len(texts) == 1
            else "named `text`"
            if col == lower.get("text")
            else "the longest text column"
        )
        det = Detection(
            "text", {"text": col}, [f"`{col}` is {why}: trained as plain text"], style="plain"
        )
        if is_guanaco(sample, col):
            det.style = "guanaco"
            det.reasons.append(
                f"`{col}` holds guanaco-style turns (### Human: / ### Assistant:), trained as "
                f"whole text; set data.format=chat and data.columns.messages={col} to train "
                "only the assistant turns"
            )
        return _finish(det, columns)
    raise DataError(
        f"data.format: cannot tell the format from columns {', '.join(columns) or '(none)'}; "
        "set data.format and data.columns"
    )


def _pick_pair(texts: list[str], sample: list[dict[str, Any]]) -> tuple[str, str, list[str]] | None:
    """(prompt, response, reasons) from the text columns, or None when there is no pair."""
    candidates = [c for c in texts if c.lower() != "text"] if len(texts) > 2 else list(texts)
    hints = {c: role_hint(c) for c in candidates}
    named_p = [c for c in candidates if hints[c] == "prompt"]
    named_r = [c for c in candidates if hints[c] == "response"]
    if not (named_p and named_r) and len(candidates) < 2:
        return None
    if not named_p and not named_r and any(c.lower() == "text" for c in texts):
        return None  # a `text` column and unnamed others: plain text
    by_len = sorted(candidates, key=lambda c: avg_len(sample, c), reverse=True)
    why: dict[str, list[str]] = {}
    if named_p and named_r:
        p, r = named_p[0], named_r[0]
        why = {p: ["named like one"], r: ["named like one"]}
    elif named_p or named_r:
        known = (named_p or named_r)[0]
        other = next(c for c in by_len if c != known)
        p, r = (known, other) if named_p else (other, known)
        why = {known: ["named like one"], other: ["the other long text column"]}
    else:
        a, b = sorted(by_len[:2], key=candidates.index)
        qa, qb = _question_share(sample, a), _question_share(sample, b)
        la, lb = avg_len(sample, a), avg_len(sample, b)
        if max(qa, qb) >= 0.5 and abs(qa - qb) >= 0.3:
            p, r = (a, b) if qa > qb else (b, a)
            why = {p: [f"{max(qa, qb):.0%} of its rows end with '?'"], r: []}
        elif max(la, lb) >= 3 * max(1.0, min(la, lb)):
            p, r = (a, b) if la > lb else (b, a)
            why = {p: ["long text"], r: ["short text"]}
        else:
            p, r = a, b
            why = {p: ["comes first"], r: ["comes after it"]}
    lp, lr = avg_len(sample, p), avg_len(sample, r)
    if lp >= 3 * max(1.0, lr) and "long text" not in why[p]:
        why[p].append("long text")
    reasons = [
        f"`{p}` looks like the prompt: {'; '.join(why[p] + [f'avg {lp:.0f} chars'])}",
        f"`{r}` like the response: {'; '.join(why[r] + [f'avg {lr:.0f} chars'])}",
    ]
    return p, r, reasons
