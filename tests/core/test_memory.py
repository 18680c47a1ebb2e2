"""The memory and disk estimates against values computed by hand for a tiny Llama
(hidden 64, intermediate 128, 2 layers, 4 heads, 2 kv heads, vocab 256, 106816 params)."""

from __future__ import annotations

import pytest

from ftui.core.check.memory import CUDA_CONTEXT, estimate_disk, estimate_memory
from ftui.core.model.facts import inspect_model
from ftui.core.spec import spec_from_dict

N = 106816
LINEAR = 2 * (12288 + 3 * 64 * 128)  # q/k/v/o + gate/up/down, both layers
GiB = 1024**3


def save_llama(tmp_path, name="tiny", **dims):
    from transformers import LlamaConfig

    base = dict(
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        vocab_size=256,
        tie_word_embeddings=False,
    )
    base.update(dims)
    LlamaConfig(**base).save_pretrained(tmp_path / name)
    return str(tmp_path / name)


@pytest.fixture(scope="module")
def facts(tmp_path_factory):
    return inspect_model(save_llama(tmp_path_factory.mktemp("m")))


@pytest.fixture(scope="module")
def llama8b(tmp_path_factory):
    path = save_llama(
        tmp_path_factory.mktemp("m"),
        "llama8b",
        hidden_size=4096,
        intermediate_size=14336,
        num_hidden_layers=32,
        num_attention_heads=32,
        num_key_value_heads=8,
        vocab_size=128256,
    )
    return inspect_model(path)


def spec(**sections):
    # The hand-computed figures below are for adapters on q_proj and v_proj.
    data = {
        "data": {"max_seq_len": 8},
        "train": {"per_device_batch_size": 1},
        "method": {"lora": {"target_modules": ["q_proj", "v_proj"]}},
    }
    for key, value in sections.items():
        data.setdefault(key, {}).update(value)
    return spec_from_dict(data)


def test_lora_single_gpu_by_hand(facts):
    est = estimate_memory(spec(), facts, 1)
    assert est.weights == 2 * N + 2 * 3584  # bf16 base + autocast's bf16 copy of adapters
    assert est.trainable_params == 3584  # q: 8*(64+64), v: 8*(64+32), two layers
    assert est.trainable == est.gradients == 4 * 3584  # fp32 adapters and their grads
    assert est.optimizer == 8 * 3584  # AdamW: two fp32 states
    # per layer per token: norms 8h + bf16 (2h + 3i + 2kv) + lse 4*heads + 6.1 x in per adapter
    per_layer = 8 * 64 + 2 * (128 + 384 + 64) + 16 + 2 * 6.1 * 64
    logits = 12 * 256 + 8 * 64
    assert est.activations == int(8 * (2 * per_layer + logits))
    assert est.overhead == CUDA_CONTEXT
    assert est.total == 2 * N + 2 * 3584 + 2 * 4 * 3584 + 8 * 3584 + est.activations + CUDA_CONTEXT


def test_gradient_checkpointing_keeps_layer_inputs_only(facts):
    plain = estimate_memory(spec(), facts, 1)
    gc = estimate_memory(spec(train={"gradient_checkpointing": True}), facts, 1)
    per_layer = 8 * 64 + 2 * (128 + 384 + 64) + 16 + 2 * 6.1 * 64
    assert gc.activations == int(8 * (2 * 2 * 64 + per_layer + 12 * 256 + 8 * 64))
    assert gc.activations < plain.activations


def test_activations_scale_with_batch_and_length(facts):
    one = estimate_memory(spec(), facts, 1).activations
    four = estimate_memory(spec(train={"per_device_batch_size": 4}), facts, 1).activations
    longer = estimate_memory(spec(data={"max_seq_len": 32}), facts, 1).activations
    assert four == pytest.approx(4 * one, abs=4) and longer == four


def test_full_finetune_by_hand(facts):
    """auto/bf16: weights, gradients and AdamW states all in bf16, as the worker loads them."""
    est = estimate_memory(spec(method={"kind": "full"}), facts, 1)
    assert est.weights == 0
    assert est.trainable == 2 * N and est.optimizer == 4 * N
    acts = 8 * (2 * (20 * 64 + 8 * 128 + 4 * 32 + 16) + 12 * 256 + 8 * 64)
    assert est.activations == acts
    assert est.gradients == 2 * N - acts  # grads fill in as activations are freed


def test_full_finetune_fp16_keeps_fp32_master(facts):
    est = estimate_memory(spec(method={"kind": "full"}, model={"dtype": "fp16"}), facts, 1)
    assert est.weights == 2 * LINEAR  # autocast's fp16 copies of the linear weights
    assert est.trainable == 4 * N and est.optimizer == 8 * N
    acts = 8 * (2 * (30 * 64 + 8 * 128 + 4 * 32 + 16) + 12 * 256 + 8 * 64)
    assert est.activations == acts


def test_optimizers(facts):
    sgd = estimate_memory(spec(train={"optimizer": "sgd"}), facts, 1)
    paged = estimate_memory(spec(train={"optimizer": "paged_adamw_8bit"}), facts, 1)
    assert sgd.optimizer == 0
    assert paged.optimizer == 2 * 3584


def test_qlora_weights(facts):
    s = spec(method={"kind": "qlora"}, model={"quantization": "4bit"})
    est = estimate_memory(s, facts, 1)
    assert est.weights == int(LINEAR * 0.516 + (N - LINEAR) * 2 + 2 * 3584)
    s8 = spec(method={"kind": "qlora"}, model={"quantization": "8bit"})
    assert estimate_memory(s8, facts, 1).weights == LINEAR + (N - LINEAR) * 2 + 2 * 3584


def test_ddp_adds_gradient_buckets(facts):
    one = estimate_memory(spec(), facts, 1)
    two = estimate_memory(spec(), facts, 2)
    assert two.overhead == one.overhead + one.gradients
    assert two.weights == one.weights


def test_fsdp_shards_weights_grads_optimizer(facts):
    s = spec(method={"kind": "full"}, launch={"strategy": "fsdp"})
    one = estimate_memory(s, facts, 1)
    four = estimate_memory(s, facts, 4)
    assert four.weights == 0
    assert four.trainable == 2 * N // 4
    assert four.optimizer == N  # 4 bytes (two bf16 states) x N / 4 ranks
    assert four.gradients == one.gradients // 4
    layer = (N - 256 * 64) / 2
    assert four.overhead == int(CUDA_CONTEXT + 2 * layer * 2)  # gathered + prefetched layer
    assert four.activations == one.activations


def test_verdicts(facts):
    est = estimate_memory(spec(), facts, 1)
    assert est.verdict(est.total * 2) == "fits"
    assert est.verdict(int(est.total / 0.95)) == "tight"
    assert est.verdict(est.total - 1) == "will not fit"
    assert est.suggestion(est.total * 2) is None


def test_suggestions_on_8b(llama8b):
    assert llama8b.num_params == 8_030_261_248
    big = spec(data={"max_seq_len": 2048}, train={"per_device_batch_size": 4})
    est = estimate_memory(big, llama8b, 1)
    assert est.verdict(64 * GiB) == "will not fit"  # about 77 GiB, 62 of them activations
    assert est.suggestion(40 * GiB) == "enable train.gradient_checkpointing"
    full = spec(
        method={"kind": "full"},
        data={"max_seq_len": 2048},
        train={"gradient_checkpointing": True},
    )
    est = estimate_memory(full, llama8b, 1)  # about 60 GiB: bf16 weights, grads, AdamW
    assert est.verdict(80 * GiB) == "fits"
    assert est.verdict(40 * GiB) == "will not fit"
    assert est.suggestion(40 * GiB, gpus_available=8) == "use launch.strategy=fsdp across 2 GPUs"
    assert est.suggestion(40 * GiB, gpus_available=1) == "use method.kind=lora"
    lora = spec(data={"max_seq_len": 2048}, train={"gradient_checkpointing": True})
    est = estimate_memory(lora, llama8b, 1)
    assert est.verdict(12 * GiB) == "will not fit"
    assert est.suggestion(12 * GiB).startswith("use method.kind=qlora")
    assert (
        est.suggestion(12 * GiB, qlora=False)
        == "lower data.max_seq_len to 1024 (longer rows are truncated)"
    )


def test_disk_estimate_by_hand(facts):
    s = spec(train={"save_steps": 100, "save_total_limit": 2})
    adapter = 4 * 3584
    per_ckpt = adapter + 8 * 3584 + 16 * 2**20
    assert estimate_disk(s, facts) == 3 * per_ckpt + adapter + 32 * 2**20
    none = spec(train={"save_steps": None})
    assert estimate_disk(none, facts) == adapter + 32 * 2**20
    full = spec(method={"kind": "full"}, train={"max_steps": 150, "save_steps": 100})
    assert estimate_disk(full, facts) == 2 * (2 * N + 4 * N + 16 * 2**20) + 2 * N + 32 * 2**20


def test_fit_on_gpus_and_cpu(facts):
    from ftui.core.check.memory import CPU_RUNTIME, fit_on
    from ftui.core.hardware import GpuInfo, HardwareReport

    gpus = [GpuInfo(i, "H100", "nvidia", 80 * GiB, 0, 80 * GiB) for i in range(4)]
    gpus[3].memory_free = GiB // 4  # busy: the smallest free memory decides
    report = HardwareReport("nvml", gpus, bitsandbytes=True)
    two = fit_on(spec(launch={"gpus": [0, 1]}), facts, report)
    assert two.estimate.world_size == 2 and two.verdict == "fits" and two.suggestion is None
    assert two.free_bytes == 80 * GiB and two.where == "least free of 2 GPU(s)"
    busy = fit_on(spec(launch={"gpus": [0, 3]}), facts, report)
    assert busy.free_bytes == GiB // 4 and busy.verdict == "will not fit"
    assert busy.suggestion is not None
    assert fit_on(spec(), facts, report).estimate.world_size == 4  # auto: every GPU
    assert fit_on(spec(launch={"gpus": [7]}), facts, report).where.endswith("GPU(s)")

    ram = HardwareReport("cpu", [], ram_available=8 * GiB)
    cpu = fit_on(spec(), facts, ram)
    assert cpu.where == "CPU RAM" and cpu.verdict == "fits" and cpu.free_bytes == 8 * GiB
    assert cpu.estimate.overhead == CPU_RUNTIME and cpu.estimate.device == "cpu"
    assert ("Python and torch", CPU_RUNTIME) in cpu.estimate.breakdown()
    # two CPU processes share the RAM: each has half of it
    shared = fit_on(spec(launch={"nproc_per_node": 2}), facts, ram)
    assert shared.free_bytes == 4 * GiB and shared.where == "CPU RAM shared by 2 processes"
    assert shared.estimate.world_size == 2
