"""What a run trains on, counted row by row: one definition for the worker's `plan` event, the
mask lens (`ftui preview`, the Template step) and the preflight, so they agree on the same data.

`RowStats.add` takes one tokenised row. A row with no trained token is dropped by the worker,
so it counts in `rows` and `no_trained` but not in `kept`, `tokens` or `trained_tokens`; those
count the kept rows after the cut at max_seq_len, the tokens the model sees. `lengths` holds
every row's length before the cut, for the histogram and the suggested max_seq_len.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

# The kinds of row the preflight warns about, each with the index of its first example.
KINDS = ("no_trained", "truncated", "empty_prompt", "empty_response", "error")


@dataclass
class Bin:
    lo: int
    hi: int  # exclusive
    count: int


@dataclass
class RowStats:
    max_seq_len: int
    rows: int = 0
    kept: int = 0
    tokens: int = 0
    trained_tokens: int = 0
    no_trained: int = 0
    truncated: int = 0
    empty_prompt: int = 0
    empty_response: int = 0
    errors: int = 0
    lengths: list[int] = field(default_factory=list)
    examples: dict[str, int] = field(default_factory=dict)  # kind -> first row index

    def add(
        self,
        index: int,
        length: int,
        tokens: int,
        trained: int,
        empty_prompt: bool = False,
        empty_response: bool = False,
        error: bool = False,
    ) -> None:
        """One row: `length` tokens before the cut, `tokens` after it, `trained` of them
        carrying labels."""
        self.rows += 1
        self.lengths.append(length)
        if trained:
            self.kept += 1
            self.tokens += tokens
            self.trained_tokens += trained
        hits = (trained == 0, length > self.max_seq_len, empty_prompt, empty_response, error)
        for kind, hit in zip(KINDS, hits, strict=True):
            if hit:
                name = "errors" if kind == "error" else kind
                setattr(self, name, getattr(self, name) + 1)
                self.examples.setdefault(kind, index)

    @property
    def trained_share(self) -> float:
        """Of the tokens the model sees, the share that carries labels."""
        return self.trained_tokens / self.tokens if self.tokens else 0.0

    @property
    def no_trained_share(self) -> float:
        return self.no_trained / self.rows if self.rows else 0.0

    def histogram(self, bins: int = 20) -> list[Bin]:
        return histogram(self.lengths, bins, self.max_seq_len)

    def suggested_max_len(self, keep: float = 0.99, context: int | None = None) -> int:
        """The max_seq_len that keeps `keep` of the rows whole, never above the model's
        `context` length (its max_position_embeddings) when that is known."""
        return suggested_max_len(self.lengths, keep, cap=context)

    def as_dict(self) -> dict[str, Any]:
        """The counts with their derived figures, JSON-ready (`ftui preview --json`)."""
        return {
            "rows": self.rows,
            "kept": self.kept,
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


def suggested_max_len(
    lengths: list[int], keep: float = 0.99, multiple: int = 8, cap: int | None = None
) -> int:
    """The shortest max_seq_len (a multiple of 8) that keeps `keep` of the rows whole, at
    most `cap` (the model's context length)."""
    if not lengths:
        return 0
    ordered = sorted(lengths)
    value = ordered[max(0, math.ceil(keep * len(ordered)) - 1)]
    value = int(math.ceil(value / multiple) * multiple)
    return min(value, cap) if cap else value
