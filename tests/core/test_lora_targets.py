"""Default LoRA targets follow the architecture: on tiny random gpt2, gpt_neox, phi3, qwen2 and
gemma models `all-linear` resolves to their own layer names, peft builds exactly the adapter
ftui counts, and preflight refuses names the model does not have, naming the ones it does."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest

from ftui.core.check.preflight import preflight
from ftui.core.demo import build_tiny_model
from ftui.core.model.facts import (
    inspect_model,
    linear_layer_names,
    lora_trainable_params,
    resolve_targets,
    target_problem,
)
from ftui.core.spec import RunSpec, spec_from_dict

# What the default (`all-linear`) resolves to, in model order, per architecture.
DEFAULT_TARGETS = {
    "gpt2": ["c_attn", "c_proj", "c_fc"],
    "gpt_neox": ["query_key_value", "dense", "dense_h_to_4h", "dense_4h_to_h"],
    "phi3": ["o_proj", "qkv_proj", "gate_up_proj", "down_proj"],
    "qwen2": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
    "gemma": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
}
FAMILIES = list(DEFAULT_TARGETS)


@cache
def tiny(family: str, root: str) -> Path:
    return build_tiny_model(Path(root) / family, family=family, hidden_size=32)


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.mktemp("tiny-families"))


def lora(**settings: object) -> RunSpec:
    return spec_from_dict({"method": {"kind": "lora", "lora": settings}})


def test_the_default_is_all_linear_and_explicit_in_config_yaml() -> None:
    spec = RunSpec()
    assert spec.method.lora.target_modules == "all-linear"
    assert "target_modules: all-linear" in spec.to_yaml()


@pytest.mark.parametrize("family", FAMILIES)
def test_the_default_resolves_to_the_architectures_layers_and_peft_agrees(
    models: str, family: str
) -> None:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    path = tiny(family, models)
    facts = inspect_model(str(path))
    assert linear_layer_names(facts) == DEFAULT_TARGETS[family]
    spec = RunSpec.model_validate({"model": {"name_or_path": str(path)}})
    lo = spec.method.lora
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(str(path))
    peft_model = get_peft_model(
        model, LoraConfig(r=lo.r, lora_alpha=lo.alpha, target_modules=lo.target_modules)
    )
    adapted = {name.rsplit(".", 1)[-1] for name in peft_model.peft_config["default"].target_modules}
    assert adapted == set(DEFAULT_TARGETS[family])
    assert lora_trainable_params(facts, spec) == peft_model.get_nb_trainable_parameters()


@pytest.mark.parametrize(
    "family,targets",
    [
        ("gpt2", ["c_attn"]),
        ("gpt2", ["mlp.c_proj"]),  # a dotted name: only the MLP's c_proj, not attention's
        ("gpt_neox", ["query_key_value", "dense"]),
        ("phi3", ["qkv_proj"]),
        ("qwen2", ["self_attn.q_proj", "v_proj", "embed_tokens"]),  # LoRA on an embedding too
    ],
)
def test_explicit_targets_count_what_peft_builds(models: str, family: str, targets: list) -> None:
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    path = tiny(family, models)
    facts = inspect_model(str(path))
    assert target_problem(facts, targets) is None
    model = AutoModelForCausalLM.from_pretrained(str(path))
    peft_model = get_peft_model(model, LoraConfig(r=4, target_modules=targets))
    assert lora_trainable_params(facts, lora(r=4, target_modules=targets)) == (
        peft_model.get_nb_trainable_parameters()
    )


def test_a_dotted_name_adapts_only_that_module(models: str) -> None:
    facts = inspect_model(str(tiny("gpt2", models)))
    sites = resolve_targets(facts, ["mlp.c_proj"])
    assert [s.path for s in sites] == ["transformer.h.*.mlp.c_proj"]
    assert target_problem(facts, ["attn.q_proj"]) is not None


def write_rows(path: Path) -> Path:
    rows = [
        {"question": "What is the capital of France?", "answer": "Paris."},
        {"question": "What is the capital of Italy?", "answer": "Rome."},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def spec_for(model: Path, data: Path, targets: object) -> RunSpec:
    return spec_from_dict(
        {
            "model": {"name_or_path": str(model)},
            "data": {
                "source": str(data),
                "format": "prompt_completion",
                "columns": {"prompt": "question", "response": "answer"},
            },
            "method": {"kind": "lora", "lora": {"target_modules": targets}},
            "output": {"root": str(data.parent / "runs")},
        }
    )


def test_preflight_refuses_names_the_model_lacks_and_names_its_layers(
    models: str, tmp_path: Path
) -> None:
    data = write_rows(tmp_path / "rows.jsonl")
    report = preflight(spec_for(tiny("gpt2", models), data, ["q_proj", "v_proj"]))
    assert report.errors == [
        (
            "method.lora.target_modules",
            "method.lora.target_modules: q_proj, v_proj not found in this gpt2 model; its "
            "linear layers are c_attn, c_proj, c_fc; use all-linear or some of those",
        )
    ]
    refused = preflight(spec_for(tiny("phi3", models), data, ["q_proj", "qkv_proj", "norm"]))
    assert [m for f, m in refused.errors if f == "method.lora.target_modules"] == [
        "method.lora.target_modules: q_proj not found in this phi3 model; its linear layers "
        "are o_proj, qkv_proj, gate_up_proj, down_proj; use all-linear or some of those"
    ]
    wrong_kind = preflight(spec_for(tiny("gpt2", models), data, ["c_attn", "ln_f"]))
    assert [m for f, m in wrong_kind.errors if f == "method.lora.target_modules"] == [
        "method.lora.target_modules: ln_f (a LayerNorm) is not a layer LoRA can adapt in this "
        "gpt2 model; its linear layers are c_attn, c_proj, c_fc; use all-linear or some of those"
    ]
    for family in ("gpt2", "gpt_neox"):
        assert preflight(spec_for(tiny(family, models), data, "all-linear")).ok


def test_full_fine_tuning_ignores_the_lora_targets(models: str, tmp_path: Path) -> None:
    spec = spec_for(tiny("gpt2", models), write_rows(tmp_path / "rows.jsonl"), ["q_proj"])
    spec.method.kind = "full"
    assert preflight(spec).ok


def test_every_shipped_lora_preset_names_modules_its_model_family_has(models: str) -> None:
    """The built-in presets all train Llama-architecture models (Llama 2 and 3, the demo's
    toy): their target lists must exist on a Llama of the same layout."""
    from ftui.core.presets import list_presets, resolve_spec

    facts = inspect_model(str(build_tiny_model(Path(models) / "llama", hidden_size=32)))
    checked = []
    for preset in list_presets():
        if preset.builtin:
            spec = resolve_spec(preset.name)
            if spec.method.kind != "full":
                assert target_problem(facts, spec.method.lora.target_modules) is None, preset.name
                checked.append(preset.name)
    assert "demo" in checked and len(checked) >= 3, checked
