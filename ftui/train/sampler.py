"""Length-grouped batches that waste little padding, on one process or many.

transformers' `group_by_length` sorts megabatches of 50 batches, but caps them so that a
dataset has at least 4 (200 rows in batches of 8 give megabatches of 48 rows), and it groups
by the whole effective batch, so with several ranks a step's batches can differ in length
and the fast ranks wait. `LengthGroupedSampler` here shuffles the rows, sorts each megabatch
of up to `MEGABATCH_STEPS` steps by length, cuts it into steps (one batch per rank, all of
about the same length), shuffles the order of the steps and puts the longest step first (an
out-of-memory shows at once). Every row is seen once per epoch, as with a random sampler;
only which rows share a batch changes. It draws from torch's global RNG like transformers'
sampler, which the Trainer seeds and restores on resume, so runs and resumes repeat exactly.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from torch.utils.data import Sampler
from transformers import Trainer

MEGABATCH_STEPS = 64


class LengthGroupedSampler(Sampler[int]):
    def __init__(self, lengths: list[int], batch_size: int, world_size: int = 1):
        self.lengths = [int(n) for n in lengths]
        self.step_rows = max(1, batch_size * max(1, world_size))

    def __len__(self) -> int:
        return len(self.lengths)

    def __iter__(self) -> Iterator[int]:
        return iter(self.order())

    def order(self) -> list[int]:
        import torch

        lengths, step = self.lengths, self.step_rows
        perm = torch.randperm(len(lengths)).tolist()
        mega = step * MEGABATCH_STEPS
        steps: list[list[int]] = []
        for start in range(0, len(perm), mega):
            chunk = sorted(perm[start : start + mega], key=lambda i: lengths[i], reverse=True)
            steps += [chunk[j : j + step] for j in range(0, len(chunk), step)]
        if not steps:
            return []
        # a short last step stays last, so every other step has one full batch per rank
        tail = [steps.pop()] if len(steps[-1]) < step and len(steps) > 1 else []
        shuffled = [steps[i] for i in torch.randperm(len(steps)).tolist()]
        longest = max(range(len(shuffled)), key=lambda i: lengths[shuffled[i][0]])
        shuffled[0], shuffled[longest] = shuffled[longest], shuffled[0]
        return [i for s in shuffled + tail for i in s]


class FtuiTrainer(Trainer):
    """The Trainer with ftui's length-grouped sampler for `train_sampling_strategy=
    "group_by_length"` on a dataset with a `length` column; everything else is transformers'."""

    def _get_train_sampler(self, train_dataset: Any = None) -> Any:
        ds = train_dataset if train_dataset is not None else self.train_dataset
        column = self.args.length_column_name
        if (
            self.args.train_sampling_strategy == "group_by_length"
            and hasattr(ds, "column_names")
            and column in ds.column_names
        ):
            return LengthGroupedSampler(
                list(ds[column]), self.args.per_device_train_batch_size, self.args.world_size
            )
        return super()._get_train_sampler(train_dataset)
