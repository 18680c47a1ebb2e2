"""Length-grouped batches that waste little padding, on one process or many.

transformers' `group_by_length` sorts megabatches of 50 batches, but caps them so that a
dataset has at least 4 (200 rows in batches of 8 give megabatches of 48 rows), and it groups
by the whole effective batch, so with several ranks a step's batches can differ in length
and the fast ranks wait. `LengthGroupedSampler` here shuffles the rows, sorts each megabatch
of up to `MEGABATCH_STEPS` steps by length, cuts it into steps (one batch per rank, all of
about the same length), shuffles the order of the steps and puts the longest step first (an
out-of-memory shows at once). Every row is seen once per epoch, as with a random sampler;
only which rows share a batch changes. The order depends on the seed and the epoch alone
(the Trainer calls `set_epoch`), so a resumed run skips exactly the batches it already saw.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

from torch.utils.data import Sampler

MEGABATCH_STEPS = 64


class LengthGroupedSampler(Sampler[int]):
    def __init__(
        self,
        lengths: list[int],
        batch_size: int,
        world_size: int = 1,
        seed: int = 0,
        epoch_source: Callable[[], float] | None = None,
    ):
        self.lengths = [int(n) for n in lengths]
        self.step_rows = max(1, batch_size * max(1, world_size))
        self.seed = seed
        self.epoch = 0
        # The Trainer's own epoch counter: a resume rebuilds the dataloader (accelerate's
        # skip_first_batches), whose set_epoch restarts at 0; the trainer state does not.
        self.epoch_source = epoch_source

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def current_epoch(self) -> int:
        if self.epoch_source is None:
            return self.epoch
        return math.floor(float(self.epoch_source() or 0.0) + 1e-6)

    def __len__(self) -> int:
        return len(self.lengths)

    def __iter__(self) -> Iterator[int]:
        return iter(self.order())

    def order(self) -> list[int]:
        import torch

        lengths, step = self.lengths, self.step_rows
        rng = torch.Generator().manual_seed(self.seed + self.current_epoch())
        perm = torch.randperm(len(lengths), generator=rng).tolist()
        mega = step * MEGABATCH_STEPS
        steps: list[list[int]] = []
        for start in range(0, len(perm), mega):
            chunk = sorted(perm[start : start + mega], key=lambda i: lengths[i], reverse=True)
            steps += [chunk[j : j + step] for j in range(0, len(chunk), step)]
        if not steps:
            return []
        # a short last step stays last, so every other step has one full batch per rank
        tail = [steps.pop()] if len(steps[-1]) < step and len(steps) > 1 else []
        shuffled = [steps[i] for i in torch.randperm(len(steps), generator=rng).tolist()]
        longest = max(range(len(shuffled)), key=lambda i: lengths[shuffled[i][0]])
        shuffled[0], shuffled[longest] = shuffled[longest], shuffled[0]
        return [i for s in shuffled + tail for i in s]
