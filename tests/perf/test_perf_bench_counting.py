"""bench/throughput.py counts real tokens from the batches each recipe's Trainer received."""

from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from recipes import Counting, Measured, row_lengths  # noqa: E402

from ftui.train.collator import DynamicPadCollator, PackingCollator, TokenCounter  # noqa: E402

ROWS = [{"input_ids": list(range(n)), "labels": list(range(n))} for n in (5, 3, 9)]


def test_counting_a_padded_batch_matches_ftuis_own_counter() -> None:
    counter, m = TokenCounter(), Measured()
    Counting(DynamicPadCollator(0, counter, 8), m)(ROWS)
    assert (m.real, m.padded, m.pairs) == (counter.real, counter.padded, counter.pairs)
    assert (m.real, m.padded) == (17, 3 * 16)


def test_counting_a_packed_batch_finds_each_sample() -> None:
    m = Measured()
    batch = Counting(PackingCollator(TokenCounter()), m)(ROWS)
    assert row_lengths(batch) == [5, 3, 9]
    assert (m.real, m.padded, m.pairs) == (17, 17, 15 + 6 + 45)


def test_counting_without_a_mask_counts_every_position() -> None:
    assert row_lengths({"input_ids": torch.zeros(2, 7, dtype=torch.long)}) == [7, 7]
