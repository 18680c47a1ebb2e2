"""TrainingArguments keywords per launch.strategy, checked by building real TrainingArguments."""

from __future__ import annotations

import importlib.util

import pytest

from ftui.core.launch.sharding import deepspeed_config, sharding_training_args, zero_stage
from ftui.core.model.facts import inspect_model
from ftui.core.spec import spec_from_dict


@pytest.fixture(scope="module")
def facts(tmp_path_factory):
    from transformers import Qwen2Config

    path = tmp_path_factory.mktemp("m") / "qwen"
    Qwen2Config(
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        vocab_size=256,
    ).save_pretrained(path)
    return inspect_model(str(path))


def make_spec(strategy, kind="lora", gc=True):
    return spec_from_dict(
        {
            "method": {"kind": kind},
            "train": {"gradient_checkpointing": gc},
            "launch": {"strategy": strategy},
        }
    )


def test_fsdp_kwargs(facts, tmp_path):
    kwargs = sharding_training_args(make_spec("fsdp"), facts)
    assert kwargs == {
        "fsdp": True,
        "fsdp_config": {
            "version": 2,
            "reshard_after_forward": True,
            "auto_wrap_policy": "TRANSFORMER_BASED_WRAP",
            "state_dict_type": "SHARDED_STATE_DICT",
            "cpu_ram_efficient_loading": True,
            "activation_checkpointing": True,
            "transformer_layer_cls_to_wrap": ["Qwen2DecoderLayer"],
        },
        "activation_checkpointing": False,
    }
    from transformers import TrainingArguments

    args = TrainingArguments(output_dir=str(tmp_path), use_cpu=True, **kwargs)
    assert args.fsdp_config["transformer_layer_cls_to_wrap"] == ["Qwen2DecoderLayer"]
    assert not args.activation_checkpointing


def test_fsdp_without_facts_wraps_no_split_modules(tmp_path):
    kwargs = sharding_training_args(make_spec("fsdp", kind="full"))
    assert "transformer_layer_cls_to_wrap" not in kwargs["fsdp_config"]
    assert kwargs["fsdp_config"]["auto_wrap_policy"] == "TRANSFORMER_BASED_WRAP"
    assert zero_stage(make_spec("deepspeed", kind="full"), None) == 3


def test_ddp_kwargs_accepted(facts, tmp_path):
    from transformers import TrainingArguments

    kwargs = sharding_training_args(make_spec("ddp", gc=False), facts)
    assert kwargs == {"ddp_find_unused_parameters": False, "activation_checkpointing": False}
    TrainingArguments(output_dir=str(tmp_path), use_cpu=True, **kwargs)


def test_deepspeed_stages(facts):
    assert zero_stage(make_spec("deepspeed"), facts) == 2
    assert zero_stage(make_spec("deepspeed", kind="full"), facts) == 3
    z3 = deepspeed_config(make_spec("deepspeed", kind="full"), facts)["zero_optimization"]
    assert z3["stage"] == 3 and z3["stage3_gather_16bit_weights_on_model_save"] is True
    cfg = deepspeed_config(make_spec("deepspeed"), facts)
    assert cfg["zero_optimization"]["stage"] == 2
    assert cfg["train_micro_batch_size_per_gpu"] == "auto" and cfg["bf16"] == {"enabled": "auto"}


@pytest.mark.skipif(importlib.util.find_spec("deepspeed") is not None, reason="deepspeed here")
def test_deepspeed_missing_is_a_clear_error(facts):
    with pytest.raises(ValueError, match="pip install deepspeed"):
        sharding_training_args(make_spec("deepspeed"), facts)


def test_strategy_problem_on_cpu_and_mps():
    from ftui.core.launch.sharding import strategy_problem

    assert strategy_problem(make_spec("ddp"), "cpu") is None
    assert "needs GPUs" in strategy_problem(make_spec("fsdp"), "cpu")
    assert "MPS" in strategy_problem(make_spec("deepspeed"), "mps")
    assert strategy_problem(make_spec("fsdp"), "nvml") is None
