"""ftui's length-grouped sampler: every row once, little padding, repeatable, longest first."""

from __future__ import annotations

import random

import torch

from ftui.train.sampler import LengthGroupedSampler


def _lengths(n: int) -> list[int]:
    rng = random.Random(3)
    return [min(512, int(rng.lognormvariate(5.0, 0.7)) + 8) for _ in range(n)]


def _efficiency(order: list[int], lengths: list[int], batch: int) -> float:
    real = padded = 0
    for i in range(0, len(order), batch):
        rows = [lengths[j] for j in order[i : i + batch]]
        real += sum(rows)
        padded += max(rows) * len(rows)
    return real / padded


def test_every_row_once_and_the_order_depends_on_seed_and_epoch_only() -> None:
    lengths = _lengths(203)
    a = LengthGroupedSampler(lengths, 8, seed=5).order()
    torch.manual_seed(123)  # the global RNG (restored differently on resume) plays no part
    assert LengthGroupedSampler(lengths, 8, seed=5).order() == a
    assert sorted(a) == list(range(203))
    assert LengthGroupedSampler(lengths, 8, seed=6).order() != a
    resumed = LengthGroupedSampler(lengths, 8, seed=5)
    resumed.set_epoch(1)
    second = resumed.order()
    assert second != a and sorted(second) == list(range(203))
    resumed.set_epoch(0)
    assert resumed.order() == a


def test_longest_first_and_little_padding_vs_transformers() -> None:
    from transformers.trainer_pt_utils import get_length_grouped_indices

    lengths = _lengths(200)
    ours = LengthGroupedSampler(lengths, 8, seed=0).order()
    torch.manual_seed(0)
    theirs = get_length_grouped_indices(lengths, 8)
    assert lengths[ours[0]] == max(lengths)
    mine, hf = _efficiency(ours, lengths, 8), _efficiency(theirs, lengths, 8)
    assert mine > 0.9
    assert mine > hf + 0.05, (mine, hf)


def test_each_step_gives_every_rank_a_batch_of_about_the_same_length() -> None:
    """With 2 ranks, accelerate hands consecutive batches to ranks 0, 1, 0, 1, ...: the two
    batches of one step must come from the same sorted run, or the fast rank waits."""
    lengths = _lengths(400)
    order = LengthGroupedSampler(lengths, 4, world_size=2, seed=1).order()
    for s in range(0, len(order) - 8, 8):
        rank0 = max(lengths[i] for i in order[s : s + 4])
        rank1 = max(lengths[i] for i in order[s + 4 : s + 8])
        assert abs(rank0 - rank1) <= 0.2 * max(rank0, rank1) + 8
