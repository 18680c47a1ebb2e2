"""The Trainer the worker runs: transformers' own, with ftui's length-grouped sampler
(`ftui.train.sampler`) when the training arguments ask for `group_by_length`, and the training
loss computed on the trained positions' logits only (`ftui.train.trained_logits`)."""

from __future__ import annotations

from typing import Any

from transformers import Trainer

from ftui.train.sampler import LengthGroupedSampler
from ftui.train.trained_logits import exact_causal_lm, trained_rows_loss


class FtuiTrainer(Trainer):
    """The Trainer with ftui's length-grouped sampler for `train_sampling_strategy=
    "group_by_length"` on a dataset with a `length` column, and, with `logits_on_trained_only`
    (the default), the lm_head and the training loss on the trained rows alone; everything
    else is transformers'."""

    def __init__(self, *args: Any, logits_on_trained_only: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.logits_on_trained_only = logits_on_trained_only

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

    def compute_loss(
        self,
        model: Any,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: Any = None,
    ) -> Any:
        lm = None if return_outputs else self._trained_rows_lm(model, inputs)
        if lm is None:
            return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        # The plain path hands num_items_in_batch to the model only when it accepts loss kwargs
        # (else the loss is this batch's mean and training_step divides it by the accumulation).
        items = num_items_in_batch if self.model_accepts_loss_kwargs else None
        loss = trained_rows_loss(model, lm, inputs, items)
        if self.args.average_tokens_across_devices and items is not None:
            # as Trainer.compute_loss: DDP averages gradients, items counts every rank's tokens
            n = self.accelerator.num_processes // self.get_tp_size()
            loss = loss * (n if self.args.n_gpu <= 1 else self.args.n_gpu)
        return loss

    def _trained_rows_lm(self, model: Any, inputs: dict[str, Any]) -> Any | None:
        """The causal LM whose lm_head may see the trained rows only, or None for the plain path:
        evaluation (its logits are returned whole), Liger's fused loss (it never builds the
        logits at all), a custom loss or label smoothing, collator-made shift_labels,
        torch.compile (a hook per step would recompile), FSDP/DeepSpeed (not measured), and a
        model class `trained_logits.EXACT_HEADS` does not vouch for."""
        args = self.args
        if (
            not self.logits_on_trained_only
            or not model.training
            or "labels" not in inputs
            or "shift_labels" in inputs
            or args.use_liger_kernel
            or args.torch_compile
            or self.label_smoother is not None
            or self.compute_loss_func is not None
            or self.is_fsdp_enabled
            or self.is_deepspeed_enabled
            or getattr(self.accelerator, "parallelism_config", None) is not None
        ):
            return None
        return exact_causal_lm(self.accelerator.unwrap_model(model))
