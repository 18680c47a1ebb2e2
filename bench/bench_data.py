"""Synthetic alpaca-like data for the throughput bench: realistic lengths, no download.

Rows have `instruction`, `input` (empty for about 60% of rows, as in alpaca) and `output`.
Word counts follow alpaca's shape: short instructions, outputs log-normally distributed with a
long tail. With the bench tokenizer (byte-level BPE trained on this vocabulary) a row of the
CPU mode averages about 200 tokens; `scale` stretches the outputs for the GPU mode's 2048.
`context_rows` are alpaca rows that all carry an input passage, so that, as in alpaca with a
prompt, a third or so of a row's tokens are the trained response (with SmolLM2's tokenizer,
about 3 tokens a word here).
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

SYLLABLES = [c + v for c in "bcdfghjklmnprstvwz" for v in ("a", "e", "i", "o", "u", "ai", "ou")]


def vocabulary(size: int = 3000, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.choice((1, 1, 2, 2, 2, 3)))))
    return sorted(words)


class Writer:
    """Zipf-distributed words with punctuation, from a fixed vocabulary."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.words = vocabulary()
        weights = [1.0 / (rank + 1) for rank in range(len(self.words))]
        total = sum(weights)
        self.cum = list(_accumulate([w / total for w in weights]))

    def text(self, n_words: int) -> str:
        out = []
        for i in range(n_words):
            w = self.words[_bisect(self.cum, self.rng.random())]
            out.append(w + ("." if i % 13 == 12 else "," if i % 7 == 6 else ""))
        return " ".join(out)


def _accumulate(xs: list[float]) -> list[float]:
    acc, out = 0.0, []
    for x in xs:
        acc += x
        out.append(acc)
    return out


def _bisect(cum: list[float], x: float) -> int:
    lo, hi = 0, len(cum) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if cum[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo


def rows(n: int, seed: int = 0, scale: float = 1.0) -> list[dict[str, str]]:
    w = Writer(seed)
    rng = w.rng
    out = []
    for _ in range(n):
        instruction = w.text(max(3, int(rng.gauss(13, 5))))
        inp = w.text(max(2, int(rng.lognormvariate(2.8, 0.7)))) if rng.random() < 0.4 else ""
        n_out = int(rng.lognormvariate(math.log(90 * scale), 0.85)) + 1
        out.append({"instruction": instruction, "input": inp, "output": w.text(n_out)})
    return out


def context_rows(
    n: int, seed: int = 0, input_words: float = 12, output_words: float = 12
) -> list[dict[str, str]]:
    """Rows whose instruction comes with an input passage (log-normal, `input_words` median)
    and a log-normal response (`output_words` median, alpaca's long tail)."""
    w = Writer(seed)
    rng = w.rng
    out = []
    for _ in range(n):
        instruction = w.text(max(3, int(rng.gauss(13, 5))))
        inp = w.text(max(3, int(rng.lognormvariate(math.log(input_words), 0.6))))
        n_out = int(rng.lognormvariate(math.log(output_words), 0.85)) + 1
        out.append({"instruction": instruction, "input": inp, "output": w.text(n_out)})
    return out


def corpus(n: int = 400) -> list[str]:
    """Text for training the bench tokenizer (same generator, another seed)."""
    return [" ".join(r.values()) for r in rows(n, seed=99)]


def write_jsonl(path: Path, data: list[dict[str, str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as fh:
        for r in data:
            fh.write(json.dumps(r) + "\n")
    return path
