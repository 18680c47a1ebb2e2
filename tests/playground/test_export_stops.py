"""The exported model stops where the run's template ends a turn, in any runtime that reads
its generation_config.json: plain transformers here, with nothing of ftui's in the loop."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from ftui.core.playground.export import export_run
from ftui.core.playground.inference import answer, load_chat_model
from tests.real_artefacts import SMOLLM2, artefact_path

QUESTIONS = ["What is the capital of France?", "What is the capital of Kenya?", "Hello there"]


def plain_generate(folder: Path, prompts: list[str]) -> list[tuple[str, list[int], int]]:
    """(answer, new ids, max_new_tokens) per prompt: AutoModelForCausalLM + generate with the
    folder's own generation config, the prompt from the folder's own chat template."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    out = []
    for prompt in prompts:
        text = tokenizer.apply_chat_template(
            [{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True
        )
        ids = tokenizer(text, return_tensors="pt", add_special_tokens=False).input_ids
        with torch.no_grad():
            gen = model.generate(ids, attention_mask=torch.ones_like(ids))
        new = gen[0, ids.shape[1] :].tolist()
        out.append(
            (
                tokenizer.decode(new, skip_special_tokens=True).strip(),
                new,
                model.generation_config.max_new_tokens,
            )
        )
    return out


def end_ids(folder: Path) -> set[int]:
    eos = json.loads((folder / "generation_config.json").read_text())["eos_token_id"]
    return set(eos) if isinstance(eos, list) else {eos}


def assert_stops_like_chat(folder: Path, cm: Any, prompts: list[str]) -> None:
    ends = end_ids(folder)
    for prompt, (text, new, limit) in zip(prompts, plain_generate(folder, prompts), strict=True):
        assert text == answer(cm, prompt, temperature=0.0), prompt
        assert new[-1] in ends and len(new) < limit, (prompt, text, new[-5:])


@pytest.mark.slow
def test_the_demo_merged_export_stops_at_im_end_in_plain_transformers(
    demo: Path, tmp_path: Path
) -> None:
    out = tmp_path / "merged"
    export_run(demo, out, merge=True)
    gen = json.loads((out / "generation_config.json").read_text())
    # The demo tokenizer's EOS is </s> (2); the ChatML turn ends with <|im_end|> (5).
    assert gen["eos_token_id"] == [2, 5]
    assert gen["do_sample"] is False and gen["max_new_tokens"] == 32
    assert gen["bos_token_id"] == 1 and gen["pad_token_id"] == 3
    cm = load_chat_model(demo)
    assert_stops_like_chat(out, cm, QUESTIONS)
    assert plain_generate(out, QUESTIONS[:1])[0][0] == "The capital of France is Paris."


@pytest.mark.slow
def test_the_adapter_export_carries_the_same_generation_config(demo: Path, tmp_path: Path) -> None:
    result = export_run(demo, tmp_path / "adapter")
    gen = json.loads((tmp_path / "adapter" / "generation_config.json").read_text())
    assert gen["eos_token_id"] == [2, 5] and gen["do_sample"] is False
    # The demo trains embed_tokens and lm_head whole: vLLM would refuse it as a LoRA.
    vllm, warning = result.serve[:2]
    assert vllm.startswith("vllm:    vllm serve ") and "--enable-lora --lora-modules demo=" in vllm
    assert warning.startswith("warning: vLLM cannot serve") and "export merged instead" in warning
    assert "\nADAPTER .\n" in (tmp_path / "adapter" / "Modelfile").read_text()


def smollm2_run(tmp_path: Path, template: str) -> Path:
    """A run dir on the real SmolLM2 whose final/ is a fresh LoRA adapter (B = 0: the merged
    model is the untrained SmolLM2), as a finished run leaves it."""
    from peft import LoraConfig, get_peft_model

    from tests.real_artefacts import smollm2

    artefact_path(SMOLLM2)
    model, tokenizer = smollm2()
    run = tmp_path / "run-smollm2"
    spec = {
        "name": "smol",
        "model": {"name_or_path": "builtin:smollm2-135m-instruct"},
        "template": {"name": template},
        "generation": {"max_new_tokens": 40},
    }
    run.mkdir()
    (run / "config.yaml").write_text(yaml.safe_dump(spec))
    peft = get_peft_model(model, LoraConfig(r=4, target_modules=["q_proj", "v_proj"]))
    try:
        peft.save_pretrained(run / "final")
    finally:
        peft.unload()  # the session's shared SmolLM2 stays the plain model
    tokenizer.save_pretrained(run / "final")
    (run / "final" / "COMPLETE").write_text("")  # the worker writes it last
    return run


@pytest.mark.parametrize("template", ["tokenizer", "chatml"])
def test_the_real_smollm2_merged_export_stops_like_chat(tmp_path: Path, template: str) -> None:
    run = smollm2_run(tmp_path, template)
    out = tmp_path / "merged"
    export_run(run, out, merge=True)
    assert end_ids(out) == {2}  # SmolLM2's EOS is its <|im_end|>
    cm = load_chat_model(run, device="cpu")
    assert_stops_like_chat(out, cm, QUESTIONS[:1])
