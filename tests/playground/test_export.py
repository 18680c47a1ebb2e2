"""Export on a real demo run: the merged model loads anywhere and answers like base + adapter."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from ftui.cli import main
from ftui.core.playground.export import ExportError, export_run
from ftui.core.playground.inference import answer, load_chat_model

QUESTIONS = ["What is the capital of France?", "What is the capital of Kenya?", "Hello there"]


def greedy(model, tokenizer, prompt: str) -> str:  # type: ignore[no-untyped-def]
    import torch

    text = tokenizer.apply_chat_template(
        [{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True
    )
    ids = tokenizer(text, return_tensors="pt", add_special_tokens=False).input_ids
    stop = tokenizer.convert_tokens_to_ids("<|im_end|>")
    with torch.no_grad():
        out = model.generate(
            ids,
            max_new_tokens=32,
            do_sample=False,
            eos_token_id=[stop, tokenizer.eos_token_id],
            pad_token_id=tokenizer.pad_token_id,
        )
    return tokenizer.decode(out[0, ids.shape[1] :], skip_special_tokens=True).strip()


@pytest.mark.slow
def test_merged_export_loads_with_plain_transformers(demo: Path, tmp_path: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    result = export_run(demo, tmp_path / "merged", merge=True)
    names = [name for name, _ in result.files]
    assert "model.safetensors" in names and "README.md" in names
    assert not any(n.startswith("adapter_") for n in names)
    assert result.total_bytes == sum((tmp_path / "merged" / n).stat().st_size for n in names)
    model = AutoModelForCausalLM.from_pretrained(tmp_path / "merged")
    tokenizer = AutoTokenizer.from_pretrained(tmp_path / "merged")
    cm = load_chat_model(demo)  # base + adapter, through ftui's own template rendering
    for q in QUESTIONS:
        assert greedy(model, tokenizer, q) == answer(cm, q, temperature=0.0, max_new_tokens=32)
    assert greedy(model, tokenizer, QUESTIONS[0]) == "The capital of France is Paris."


@pytest.mark.slow
def test_adapter_export_and_its_model_card(demo: Path, tmp_path: Path) -> None:
    out = tmp_path / "adapter"
    result = export_run(demo, out, checkpoint=250)
    names = {name for name, _ in result.files}
    assert {"adapter_config.json", "adapter_model.safetensors", "README.md"} <= names
    assert not names & {"optimizer.pt", "scheduler.pt", "training_args.bin"}
    card = (out / "README.md").read_text()
    for fact in (
        "builtin:demo-tiny-llama",
        "builtin:demo-qa",
        "| template | chatml |",
        "| LoRA r / alpha / dropout | 16 / 32.0 / 0.0 |",
        "| train.learning_rate | 0.005 |",
        "checkpoint-250",
        "not a pretrained LLM",
    ):
        assert fact in card, fact
    with pytest.raises(ExportError, match="not empty"):
        export_run(demo, out)


def quantized_run(tmp_path: Path, q: str) -> Path:
    """A hand-written run dir of a LoRA run on an 8-bit/4-bit base: the refusal needs no GPU."""
    run = tmp_path / f"run-{q}"
    (run / "final").mkdir(parents=True)
    (run / "final" / "adapter_config.json").write_text('{"peft_type": "LORA"}')
    (run / "final" / "COMPLETE").write_text("")  # the worker writes it last
    spec = {"name": "q", "model": {"name_or_path": "org/model", "quantization": q}}
    (run / "config.yaml").write_text(yaml.safe_dump(spec))
    return run


@pytest.mark.parametrize("q", ["8bit", "4bit"])
def test_merge_into_a_quantized_base_is_refused(
    tmp_path: Path, q: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run = quantized_run(tmp_path, q)
    with pytest.raises(ExportError, match=f"loaded in {q}.*reload the base in bf16"):
        export_run(run, tmp_path / "out", merge=True)
    assert not (tmp_path / "out").exists()
    assert main(["export", str(run), "--merge", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "--base-dtype bf16" in err and "without --merge" in err


@pytest.mark.slow
def test_push_without_a_token_shows_what_would_be_pushed(
    demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from huggingface_hub import constants

    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "no-token"))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    code = main(["export", str(demo), "--out", str(tmp_path / "x"), "--push", "me/demo"])
    out = capsys.readouterr().out
    assert code == 0
    assert "not pushed: no Hugging Face token" in out and "Would upload to me/demo" in out
    assert "adapter_model.safetensors" in out.split("Would upload")[1]


@pytest.mark.slow
def test_the_token_is_never_written(
    demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from huggingface_hub import constants

    secret = "hf_ftuiTestTokenThatMustNotLeak"
    monkeypatch.setenv("HF_TOKEN", secret)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)  # never send anything from a test
    assert main(["export", str(demo), "--out", str(tmp_path / "x"), "--push", "me/demo"]) == 0
    assert "HF_HUB_OFFLINE" in capsys.readouterr().out  # the tests run offline: nothing is sent
    for path in (tmp_path / "x").rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path
    assert json.loads((tmp_path / "x" / "adapter_config.json").read_text())["peft_type"] == "LORA"


@pytest.mark.slow
def test_the_alternative_merges_into_a_full_precision_reload(demo: Path, tmp_path: Path) -> None:
    run = tmp_path / "run-8bit"
    shutil.copytree(demo, run, ignore=shutil.ignore_patterns("checkpoints"))
    config = yaml.safe_load((run / "config.yaml").read_text())
    config["model"]["quantization"] = "8bit"
    (run / "config.yaml").write_text(yaml.safe_dump(config))
    result = export_run(run, tmp_path / "out", merge=True, base_dtype="fp32")
    assert "model.safetensors" in [name for name, _ in result.files]
    assert any("trained against the 8bit base" in note for note in result.notes)
    assert "trained against the 8bit base" in (tmp_path / "out" / "README.md").read_text()
