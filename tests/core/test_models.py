"""Model facts from tiny configs saved to tmp dirs, checked against hand-computed values and
against peft's own count on a real model of the same shape."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ftui.core.model.facts import inspect_model, lora_trainable_params
from ftui.core.model.hub import ModelError
from ftui.core.spec import spec_from_dict

CHATML = "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"


def tiny_config(family: str):
    from transformers import LlamaConfig, MistralConfig, Qwen2Config

    common = dict(
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        vocab_size=256,
        max_position_embeddings=512,
    )
    if family == "llama":
        return LlamaConfig(intermediate_size=128, tie_word_embeddings=False, **common)
    if family == "qwen2":
        return Qwen2Config(intermediate_size=128, tie_word_embeddings=True, **common)
    return MistralConfig(intermediate_size=96, tie_word_embeddings=False, **common)


def save_tiny(tmp_path: Path, family: str, chat_template: str | None = None) -> Path:
    folder = tmp_path / family
    tiny_config(family).save_pretrained(folder)
    tok = {"model_max_length": 512}
    if chat_template:
        tok["chat_template"] = chat_template
    (folder / "tokenizer_config.json").write_text(json.dumps(tok))
    return folder


def lora_spec(**lora):
    return spec_from_dict({"method": {"kind": "lora", "lora": lora}})


# Hand-computed: hidden 64, 2 layers, 4 heads of 16, 2 kv heads (k/v out 32), vocab 256.
# embed 256*64 = 16384; attention q 4096 + k 2048 + v 2048 + o 4096 = 12288; norms 2*64.
LLAMA_PARAMS = 16384 + 2 * (12288 + 3 * 64 * 128 + 128) + 64 + 16384  # untied lm_head
QWEN2_PARAMS = 16384 + 2 * (12288 + 128 + 3 * 64 * 128 + 128) + 64  # q/k/v biases, tied
MISTRAL_PARAMS = 16384 + 2 * (12288 + 3 * 64 * 96 + 128) + 64 + 16384


@pytest.mark.parametrize(
    "family,params,arch",
    [
        ("llama", LLAMA_PARAMS, "LlamaForCausalLM"),
        ("qwen2", QWEN2_PARAMS, "Qwen2ForCausalLM"),
        ("mistral", MISTRAL_PARAMS, "MistralForCausalLM"),
    ],
)
def test_facts_from_config(tmp_path, family, params, arch):
    facts = inspect_model(str(save_tiny(tmp_path, family, CHATML)))
    assert facts.num_params == params
    assert facts.architecture == arch and facts.model_type == family
    assert (facts.hidden_size, facts.num_layers, facts.num_heads, facts.num_kv_heads) == (
        64,
        2,
        4,
        2,
    )
    assert facts.vocab_size == 256 and facts.context_length == 512 and facts.head_dim == 16
    assert facts.tie_word_embeddings is (family == "qwen2")
    assert facts.has_chat_template and facts.chat_template == CHATML
    assert facts.is_local and facts.gated_hint is None
    assert facts.linear_module_names == [
        "down_proj",
        "gate_proj",
        "k_proj",
        "lm_head",
        "o_proj",
        "q_proj",
        "up_proj",
        "v_proj",
    ]
    assert facts.output_layer == "lm_head"
    assert facts.decoder_layer_classes == [f"{arch.removesuffix('ForCausalLM')}DecoderLayer"]


def test_no_chat_template(tmp_path):
    facts = inspect_model(str(save_tiny(tmp_path, "llama")))
    assert facts.has_chat_template is False and facts.chat_template is None


def test_lora_counts_hand_computed(tmp_path):
    facts = inspect_model(str(save_tiny(tmp_path, "llama")))
    # q: 8*(64+64) = 1024, v: 8*(64+32) = 768, two layers
    qv = lora_spec(r=8, target_modules=["q_proj", "v_proj"])
    assert lora_trainable_params(facts, qv) == (3584, LLAMA_PARAMS + 3584)
    # all-linear (not lm_head): q 1024 + k 768 + v 768 + o 1024 + gate/up/down 3*8*(64+128)
    per_layer = 1024 + 768 + 768 + 1024 + 3 * 1536
    trainable, total = lora_trainable_params(facts, lora_spec(r=8, target_modules="all-linear"))
    assert (trainable, total) == (2 * per_layer, LLAMA_PARAMS + 2 * per_layer)
    full = spec_from_dict({"method": {"kind": "full"}})
    assert lora_trainable_params(facts, full) == (LLAMA_PARAMS, LLAMA_PARAMS)


@pytest.mark.parametrize(
    "family,lora",
    [
        ("llama", dict(r=8, target_modules=["q_proj", "v_proj"])),
        ("llama", dict(r=4)),  # the default: all-linear
        ("qwen2", dict(r=16, target_modules=["q_proj", "k_proj", "v_proj", "o_proj"])),
        ("mistral", dict(r=8, target_modules="all-linear", use_dora=True)),
        ("llama", dict(r=8, modules_to_save=["lm_head"])),
    ],
)
def test_lora_counts_match_peft(tmp_path, family, lora):
    """The estimate equals what peft really builds on a CPU model of the same config."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    facts = inspect_model(str(save_tiny(tmp_path, family)))
    spec = lora_spec(**lora)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(tiny_config(family))
    lo = spec.method.lora
    peft_model = get_peft_model(
        model,
        LoraConfig(
            r=lo.r,
            lora_alpha=lo.alpha,
            target_modules=lo.target_modules,
            modules_to_save=lo.modules_to_save or None,
            use_dora=lo.use_dora,
        ),
    )
    assert lora_trainable_params(facts, spec) == peft_model.get_nb_trainable_parameters()


def test_missing_local_path_names_it(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(ModelError, match="no such directory") as err:
        inspect_model(str(missing))
    assert str(missing) in str(err.value)


def test_directory_without_config(tmp_path):
    with pytest.raises(ModelError, match="no config.json"):
        inspect_model(str(tmp_path))


def test_offline_not_cached_says_how(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelError) as err:
        inspect_model("acme/never-downloaded", cache_dir=str(tmp_path))
    text = str(err.value)
    assert "acme/never-downloaded" in text and "ftui download acme/never-downloaded" in text


def test_gated_error_tells_login(tmp_path, monkeypatch):
    """The hub is not reachable here, so the GatedRepoError it would raise is injected."""
    import huggingface_hub
    from huggingface_hub.errors import GatedRepoError

    class Resp:
        headers: dict = {}
        status_code = 401
        request = None

    def gated(*args, **kwargs):
        raise GatedRepoError("gated", response=Resp())

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", gated)
    with pytest.raises(ModelError) as err:
        inspect_model("meta-llama/Llama-3.2-1B", cache_dir=str(tmp_path))
    assert "hf auth login" in str(err.value) and "never stores" in str(err.value)


def test_shapes_from_config_when_meta_build_fails(tmp_path, monkeypatch):
    """Remote-code models that cannot be built on meta still get counts from the config."""
    import ftui.core.model.facts as models

    def cannot_build(config, trust_remote_code):
        raise RuntimeError("custom code needs CUDA")

    monkeypatch.setattr(models, "_meta_model", cannot_build)
    facts = inspect_model(str(save_tiny(tmp_path, "llama")))
    assert facts.num_params == LLAMA_PARAMS
    qv = lora_spec(r=8, target_modules=["q_proj", "v_proj"])
    assert lora_trainable_params(facts, qv) == (3584, LLAMA_PARAMS + 3584)
    per_layer = 1024 + 768 + 768 + 1024 + 3 * 1536  # the default, all-linear
    assert lora_trainable_params(facts, lora_spec(r=8))[0] == 2 * per_layer
