"""The mask lens: real rows rendered through the template and the tokenizer, token by token,
each token trained or masked, plus the statistics that catch a bad setup before a launch.

`build_lens(rows, det, spec, tokenizer)` -> `Lens(rows=[LensRow], stats=LensStats)`.
Tokens come from exactly the code the worker trains with (`encode.encode`: the template's
text tokenised once), so what the lens shows is what is trained. Each token's text is its
characters in the rendered text, so an accent or an emoji split over byte-level tokens shows
whole (the tokens after the first are `joined` to it) instead of as `��`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ftui.core.spec import RunSpec

EXAMPLE_KINDS = ("no_trained", "truncated", "empty_prompt", "empty_response", "error")


@dataclass
class LensToken:
    id: int
    text: str
    trained: bool
    special: bool = False
    eos: bool = False
    joined: bool = False  # shares its characters with the token before (one emoji, two tokens)


@dataclass
class LensRow:
    index: int
    tokens: list[LensToken]  # what is trained on: cut at max_seq_len
    length: int  # tokens before the cut
    cut: int
    empty_prompt: bool = False
    empty_response: bool = False
    error: str | None = None
    preview: str = ""  # the start of the row's text, for messages

    @property
    def truncated(self) -> bool:
        return self.length > self.cut

    @property
    def trained(self) -> int:
        return sum(t.trained for t in self.tokens)


@dataclass
class Bin:
    lo: int
    hi: int  # exclusive
    count: int


@dataclass
class LensStats:
    max_seq_len: int
    rows: int = 0
    tokens: int = 0
    trained_tokens: int = 0
    no_trained: int = 0
    truncated: int = 0
    empty_prompt: int = 0
    empty_response: int = 0
    errors: int = 0
    lengths: list[int] = field(default_factory=list)
    examples: dict[str, int] = field(default_factory=dict)  # kind -> first row index

    @property
    def trained_share(self) -> float:
        return self.trained_tokens / self.tokens if self.tokens else 0.0

    @property
    def no_trained_share(self) -> float:
        return self.no_trained / self.rows if self.rows else 0.0

    def add(self, row: LensRow) -> None:
        self.rows += 1
        self.lengths.append(row.length)
        self.tokens += len(row.tokens)
        self.trained_tokens += row.trained
        for kind, hit in (
            ("no_trained", row.trained == 0),
            ("truncated", row.truncated),
            ("empty_prompt", row.empty_prompt),
            ("empty_response", row.empty_response),
            ("error", row.error is not None),
        ):
            if hit:
                name = "errors" if kind == "error" else kind
                setattr(self, name, getattr(self, name) + 1)
                self.examples.setdefault(kind, row.index)

    def histogram(self, bins: int = 20) -> list[Bin]:
        return histogram(self.lengths, bins, self.max_seq_len)

    def suggested_max_len(self, keep: float = 0.99) -> int:
        return suggested_max_len(self.lengths, keep)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "tokens": self.tokens,
            "trained_tokens": self.trained_tokens,
            "trained_share": round(self.trained_share, 4),
            "no_trained": self.no_trained,
            "truncated": self.truncated,
            "empty_prompt": self.empty_prompt,
            "empty_response": self.empty_response,
            "errors": self.errors,
            "max_seq_len": self.max_seq_len,
            "suggested_max_seq_len": self.suggested_max_len(),
            "longest": max(self.lengths, default=0),
            "examples": dict(self.examples),
            "histogram": [[b.lo, b.hi, b.count] for b in self.histogram()],
        }


@dataclass
class Lens:
    rows: list[LensRow]
    stats: LensStats


def histogram(lengths: list[int], bins: int = 20, cut: int | None = None) -> list[Bin]:
    """Equal-width bins from 0 to the longest row (or the cut, if larger); widths are round
    numbers so the labels read well."""
    top = max([*lengths, cut or 0, 1])
    raw = top / bins
    magnitude = 10 ** max(0, int(math.log10(raw))) if raw >= 1 else 1
    width = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    n = int(math.ceil((top + 1) / width))
    counts = [0] * n
    for length in lengths:
        counts[min(n - 1, length // width)] += 1
    return [Bin(i * width, (i + 1) * width, c) for i, c in enumerate(counts)]


def suggested_max_len(lengths: list[int], keep: float = 0.99, multiple: int = 8) -> int:
    """The shortest max_seq_len (a multiple of 8) that keeps `keep` of the rows whole."""
    if not lengths:
        return 0
    ordered = sorted(lengths)
    value = ordered[max(0, math.ceil(keep * len(ordered)) - 1)]
    return int(math.ceil(value / multiple) * multiple)


def _token_texts(tokenizer: Any, ids: list[int]) -> list[str]:
    """Each token decoded alone: only for tokenizers without offsets (split characters
    then show as replacement characters)."""
    return list(tokenizer.batch_decode([[i] for i in ids], skip_special_tokens=False))


def lens_row(
    row: dict[str, Any], index: int, det: Any, spec: RunSpec, tokenizer: Any, tokens: bool = True
) -> LensRow:
    """One row through template + tokenizer. Template errors are kept on the row, not raised."""
    from ftui.core.data.dataset import row_to_conversation
    from ftui.core.prompt.encode import encode, token_pieces
    from ftui.core.prompt.templates import TemplateError

    cut = spec.data.max_seq_len
    conv = row_to_conversation(row, det)
    if conv.text is not None:
        empty_p, empty_r, preview = False, not conv.text.strip(), conv.text
    else:
        users = [m.content for m in conv.turns if m.role == "user"]
        answers = [m.content for m in conv.turns if m.role == "assistant"]
        empty_p = not any(u.strip() for u in users)
        # a prompt-only mapping (language modelling on the prompt) has no response to be empty
        has_response = "response" in det.columns or "messages" in det.columns
        empty_r = has_response and not any(a.strip() for a in answers)
        preview = (users or answers or [""])[0]
    preview = " ".join(preview.split())[:80]
    try:
        enc = encode(spec.template, conv, tokenizer, max_len=cut)
    except TemplateError as exc:
        return LensRow(index, [], 0, cut, empty_p, empty_r, str(exc), preview)
    shown, labels = enc.ids, enc.labels
    out: list[LensToken] = []
    if tokens:
        special = set(getattr(tokenizer, "all_special_ids", []) or [])
        eos = tokenizer.eos_token_id
        pieces = token_pieces(enc) or [(t, False) for t in _token_texts(tokenizer, shown)]
        for tid, (text, joined), lab in zip(shown, pieces, labels, strict=True):
            out.append(LensToken(tid, text, lab != -100, tid in special, tid == eos, joined))
    else:
        out = [LensToken(t, "", lab != -100) for t, lab in zip(shown, labels, strict=True)]
    return LensRow(index, out, enc.length, cut, empty_p, empty_r, None, preview)


def build_lens(
    rows: Iterable[dict[str, Any]], det: Any, spec: RunSpec, tokenizer: Any, show: int = 5
) -> Lens:
    """Statistics over all `rows`; the first `show` rows are kept with their tokens' text."""
    stats = LensStats(max_seq_len=spec.data.max_seq_len)
    kept: list[LensRow] = []
    for i, row in enumerate(rows):
        lr = lens_row(row, i, det, spec, tokenizer, tokens=i < show)
        stats.add(lr)
        if i < show:
            kept.append(lr)
    return Lens(kept, stats)


def lens_row_at(
    rows: list[dict[str, Any]], index: int, det: Any, spec: RunSpec, tokenizer: Any
) -> LensRow:
    """The lens of one row (for stepping through rows one at a time)."""
    return lens_row(rows[index], index, det, spec, tokenizer, tokens=True)
