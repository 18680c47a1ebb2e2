"""GGUF through llama.cpp's own converter (the llama-cpp-python sdist's copy, a real artefact),
read back with PyPI gguf's reader; and every way an export is refused leaves nothing behind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from ftui.cli import main
from ftui.core.playground.export import ExportError, export_run
from ftui.core.playground.gguf_export import (
    CONVERTER_ARTEFACT,
    adds_bos,
    convert,
    find_converter,
    read_facts,
)
from tests.real_artefacts import SMOLLM2, artefact_path, real_tokenizer


def only_entries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.slow
def test_the_demo_exports_a_gguf_that_stops_at_im_end(demo: Path, tmp_path: Path) -> None:
    artefact_path(CONVERTER_ARTEFACT)
    out = tmp_path / "gguf"
    result = export_run(demo, out, gguf="f16")  # no --merge: a GGUF is of the merged model
    assert result.merged and result.runtimes.gguf == "model-f16.gguf"
    facts = read_facts(out / "model-f16.gguf")
    assert facts.chat_template == (out / "chat_template.jinja").read_text()
    # The demo tokenizer's EOS is </s>; its ChatML turns end with <|im_end|>, and so does the GGUF.
    assert (facts.eos_id, facts.eos_text) == (5, "<|im_end|>")
    assert facts.add_bos is False and facts.file_type == 1  # ChatML: no BOS; 1 = F16
    assert (out / "Modelfile").read_text().startswith("FROM ./model-f16.gguf\n")
    assert any(line.startswith("llama.cpp: llama-server -m ") for line in result.serve)
    assert only_entries(tmp_path) == ["gguf"]  # no staging or .partial folder left


def smollm2_gguf(out: Path, vocab_only: bool) -> None:
    """The real SmolLM2 through llama.cpp's converter, its metadata read back."""
    from gguf import GGUFReader

    model_dir = artefact_path(SMOLLM2)
    artefact_path(CONVERTER_ARTEFACT)
    tokenizer = real_tokenizer(SMOLLM2)
    convert(model_dir, out, "q8_0", "<|im_end|>", adds_bos(tokenizer), find_converter(), vocab_only)
    facts = read_facts(out)
    assert facts.chat_template == tokenizer.chat_template
    assert (facts.eos_id, facts.eos_text) == (2, "<|im_end|>")
    assert facts.add_bos is False and facts.file_type == 7  # 7 = Q8_0
    pre = GGUFReader(str(out)).fields["tokenizer.ggml.pre"].contents()
    assert pre == "smollm"  # llama.cpp knew SmolLM's pre-tokenizer by its hash: no fallback
    assert only_entries(out.parent) == [out.name]


def test_the_real_smollm2_gguf_metadata(tmp_path: Path) -> None:
    """Vocabulary and metadata only (seconds); the whole conversion: `make test-gguf-runtime`."""
    smollm2_gguf(tmp_path / "smol.gguf", vocab_only=True)


def adapter_run(tmp_path: Path, quantization: str = "none", weights: bool = True) -> Path:
    """A hand-written LoRA run on the demo model; `weights=False`: its final/ was cut off."""
    run = tmp_path / "run"
    (run / "final").mkdir(parents=True)
    (run / "final" / "adapter_config.json").write_text('{"peft_type": "LORA"}')
    if weights:  # a whole (empty) safetensors file and the marker the worker writes last
        from safetensors.torch import save_file

        save_file({}, str(run / "final" / "adapter_model.safetensors"))
        (run / "final" / "COMPLETE").write_text("")
    spec = {
        "name": "r",
        "model": {"name_or_path": "builtin:demo-tiny-llama", "quantization": quantization},
    }
    (run / "config.yaml").write_text(yaml.safe_dump(spec))
    return run


def refused(run: Path, out: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    assert main(["export", str(run), "--out", str(out), *extra]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    return err


def test_no_converter_is_a_clear_refusal_before_anything_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FTUI_ARTEFACTS", str(tmp_path / "empty"))
    run, out = adapter_run(tmp_path), tmp_path / "out"
    err = refused(run, out, capsys, "--gguf", "q8_0")
    assert "no GGUF converter found" in err and "--llama-cpp DIR" in err
    assert f"ftui fetch {CONVERTER_ARTEFACT}" in err
    err = refused(run, out, capsys, "--gguf", "f16", "--llama-cpp", str(tmp_path))
    assert "not a llama.cpp checkout (no convert_hf_to_gguf.py, gguf-py/gguf/__init__.py)" in err
    assert only_entries(tmp_path) == ["run"]


@pytest.mark.slow
def test_a_converter_that_fails_leaves_nothing_behind(
    demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    checkout = tmp_path / "llama.cpp"
    (checkout / "gguf-py" / "gguf").mkdir(parents=True)
    (checkout / "gguf-py" / "gguf" / "__init__.py").write_text("")
    (checkout / "convert_hf_to_gguf.py").write_text("raise SystemExit('no such architecture')\n")
    out = tmp_path / "exports" / "x"
    with pytest.raises(ExportError, match=r"failed \(exit 1\): no such architecture$") as exc:
        export_run(demo, out, gguf="f16", llama_cpp=checkout)
    assert f"llama.cpp checkout {checkout}" in str(exc.value)
    assert only_entries(tmp_path / "exports") == []


def test_an_unwritable_output_folder_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a-file").write_text("")
    err = refused(adapter_run(tmp_path), tmp_path / "a-file" / "out", capsys)
    assert f"cannot write into {tmp_path / 'a-file'}" in err


def test_a_cut_off_checkpoint_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    err = refused(adapter_run(tmp_path, weights=False), tmp_path / "out", capsys)
    assert "final/ is incomplete: its save never finished (no COMPLETE marker)" in err
    assert only_entries(tmp_path) == ["run"]
    err = refused(tmp_path / "run", tmp_path / "out", capsys, "--checkpoint", "7")
    assert "--checkpoint: 7 not found" in err


def test_a_gguf_of_a_quantized_base_needs_base_dtype(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    err = refused(
        adapter_run(tmp_path, quantization="4bit"), tmp_path / "out", capsys, "--gguf", "f16"
    )
    assert "loaded in 4bit" in err and "--base-dtype bf16" in err
    assert only_entries(tmp_path) == ["run"]


def test_the_generation_config_of_a_demo_export_names_both_stops(tmp_path: Path) -> None:
    """No training needed: the demo's tokenizer with the ChatML template (a cut-down run)."""
    from transformers import AutoTokenizer

    from ftui.core.demo import ensure_demo_model
    from ftui.core.playground.generation_config import generation_config
    from ftui.core.spec import RunSpec

    tok = AutoTokenizer.from_pretrained(ensure_demo_model())
    spec = RunSpec.model_validate({"template": {"name": "chatml"}})
    gen = generation_config(spec, tok, {"eos_token_id": 2, "temperature": 0.7})
    assert gen["eos_token_id"] == [2, 5] and "temperature" not in gen
    assert json.loads(json.dumps(gen)) == gen
