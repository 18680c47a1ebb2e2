"""The Trainer the worker runs: transformers' own, with ftui's length-grouped sampler
(`ftui.train.sampler`) when the training arguments ask for `group_by_length`."""

from __future__ import annotations

from typing import Any

from transformers import Trainer

from ftui.train.sampler import LengthGroupedSampler


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
            seed = self.args.data_seed if self.args.data_seed is not None else self.args.seed
            return LengthGroupedSampler(
                list(ds[column]),
                self.args.per_device_train_batch_size,
                self.args.world_size,
                seed,
                epoch_source=lambda: self.state.epoch,
            )
        return super()._get_train_sampler(train_dataset)
