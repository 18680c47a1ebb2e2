"""The TrainingArguments keywords for launch.strategy (ddp, fsdp, deepspeed).

The worker does `TrainingArguments(..., **sharding_training_args(spec, facts))`. For FSDP
the recipe is: FSDP2 full shard (reshard after forward), wrapping each decoder layer (the
class names come from the model's `_no_split_modules`), FSDP's own activation checkpointing
instead of the Trainer's (the Trainer's adds a redundant all-gather in backward), sharded
checkpoints (fast, one file per rank), weights loaded on rank 0 only and broadcast. Before
`trainer.save_model(final)` the worker switches to a full state dict so final/ holds one
ordinary safetensors adapter or model:

    if trainer.is_fsdp_enabled:
        trainer.accelerator.state.fsdp_plugin.set_state_dict_type("FULL_STATE_DICT")

DeepSpeed (when installed): ZeRO-3 for full fine-tuning and for base models of 8B parameters
and up (the frozen weights are sharded too), ZeRO-2 otherwise; "auto" values are filled in
by the Trainer from its own arguments, so batch size, accumulation, precision and clipping
are said once, in the spec.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from ftui.core.model.facts import ModelFacts

ZERO3_FROM_PARAMS = 8_000_000_000


def checkpointing_key() -> str:
    """transformers 5 renamed gradient_checkpointing to activation_checkpointing."""
    from transformers import TrainingArguments

    fields = getattr(TrainingArguments, "__dataclass_fields__", {})
    return (
        "activation_checkpointing"
        if "activation_checkpointing" in fields
        else ("gradient_checkpointing")
    )


def fsdp_config(spec: Any, facts: ModelFacts | None) -> dict[str, Any]:
    config: dict[str, Any] = {
        "version": 2,
        "reshard_after_forward": True,  # full shard: weights, grads and optimizer states
        "auto_wrap_policy": "TRANSFORMER_BASED_WRAP",
        "state_dict_type": "SHARDED_STATE_DICT",
        "cpu_ram_efficient_loading": True,
        "activation_checkpointing": bool(spec.train.gradient_checkpointing),
    }
    # Without facts transformers wraps the model's _no_split_modules: the same classes.
    if facts is not None and facts.decoder_layer_classes:
        config["transformer_layer_cls_to_wrap"] = list(facts.decoder_layer_classes)
    return config


def zero_stage(spec: Any, facts: ModelFacts | None) -> int:
    params = (facts.num_params or 0) if facts is not None else 0
    if spec.method.kind == "full" or params >= ZERO3_FROM_PARAMS:
        return 3
    return 2


def deepspeed_config(
    spec: Any, facts: ModelFacts | None, stage: int | None = None
) -> dict[str, Any]:
    stage = stage or zero_stage(spec, facts)
    zero: dict[str, Any] = {
        "stage": stage,
        "overlap_comm": True,
        "contiguous_gradients": True,
        "reduce_bucket_size": "auto",
    }
    if stage == 3:
        zero.update(
            {
                "stage3_prefetch_bucket_size": "auto",
                "stage3_param_persistence_threshold": "auto",
                "stage3_max_live_parameters": 1e9,
                "stage3_max_reuse_distance": 1e9,
                # final/ gets one ordinary bf16 safetensors model, not ZeRO shards
                "stage3_gather_16bit_weights_on_model_save": True,
            }
        )
    else:
        zero["allgather_bucket_size"] = 2e8
    return {
        "zero_optimization": zero,
        "bf16": {"enabled": "auto"},
        "fp16": {"enabled": "auto"},
        "gradient_accumulation_steps": "auto",
        "gradient_clipping": "auto",
        "train_batch_size": "auto",
        "train_micro_batch_size_per_gpu": "auto",
        "zero_allow_untested_optimizer": True,  # the Trainer's torch AdamW
    }


def sharding_training_args(
    spec: Any, facts: ModelFacts | None = None, *, checkpoint_key: str | None = None
) -> dict[str, Any]:
    """Keyword arguments for TrainingArguments that implement spec.launch.strategy.

    `facts` (from inspect_model) names the decoder layer class to wrap and sizes the ZeRO
    stage; without it FSDP wraps the model's `_no_split_modules`. Raises ValueError when
    deepspeed is asked for but not installed."""
    strategy = spec.launch.strategy
    key = checkpoint_key or checkpointing_key()
    if strategy == "fsdp":
        return {
            "fsdp": True,
            "fsdp_config": fsdp_config(spec, facts),
            key: False,  # FSDP checkpoints activations itself (fsdp_config)
        }
    if strategy == "deepspeed":
        if importlib.util.find_spec("deepspeed") is None:
            raise ValueError(
                "launch.strategy: deepspeed is not installed (pip install deepspeed); "
                "or use launch.strategy=fsdp"
            )
        return {"deepspeed": deepspeed_config(spec, facts), key: spec.train.gradient_checkpointing}
    return {
        "ddp_find_unused_parameters": False,  # every trainable parameter is used every step
        key: spec.train.gradient_checkpointing,
    }


def strategy_problem(spec: Any, backend: str) -> str | None:
    """Why launch.strategy cannot run on this hardware backend (HardwareReport.backend), or
    None. accelerate turns FSDP and DeepSpeed on only for GPUs: on a CPU the Trainer would
    quietly fall back to plain DDP, so preflight refuses instead."""
    strategy = spec.launch.strategy
    if strategy == "ddp":
        return None
    if backend == "cpu":
        return (
            f"launch.strategy: {strategy} needs GPUs (accelerate enables it only on GPUs); "
            "use launch.strategy=ddp on a CPU"
        )
    if backend == "mps":
        return f"launch.strategy: {strategy} is not available on Apple MPS; use ddp"
    return None
