"""What an export adds for the runtimes that serve it: a GGUF, an Ollama Modelfile, commands.

`write_runtimes` runs inside the export's temp folder (before it is renamed into place, so a
failed conversion leaves nothing behind); `serve_lines` and `run_ollama_create` run on the
finished folder, whose final path the commands name.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ftui.core.atomic import atomic_write_text
from ftui.core.demo import resolve_model_ref
from ftui.core.playground.generation_config import end_of_turn_markers
from ftui.core.playground.gguf_export import (
    Converter,
    GGUFError,
    adds_bos,
    convert,
    readback_problems,
)
from ftui.core.playground.modelfile import (
    MODELFILE,
    ModelfileError,
    build_modelfile,
    ollama_create_argv,
    ollama_create_command,
)
from ftui.core.playground.vllm import vllm_lora_warning, vllm_serve_command
from ftui.core.spec import RunSpec


@dataclass
class Runtimes:
    gguf: str | None = None  # file name inside the export
    modelfile: bool = False
    notes: list[str] = field(default_factory=list)


def gguf_name(outtype: str) -> str:
    return f"model-{outtype}.gguf"


def write_runtimes(
    spec: RunSpec,
    work: Path,
    tokenizer: Any,
    merged: bool,
    outtype: str | None,
    converter: Converter | None,
) -> Runtimes:
    out = Runtimes()
    markers = end_of_turn_markers(spec, tokenizer)
    if outtype is not None and converter is not None:
        name = gguf_name(outtype)
        convert(work, work / name, outtype, markers[0], adds_bos(tokenizer), converter)
        problems = readback_problems(work / name, markers[0], tokenizer)
        if problems:
            raise GGUFError(f"--gguf: {name} read back wrong: " + "; ".join(problems))
        out.gguf = name
        out.notes.append(
            f"{name}: llama.cpp's converter ({converter.source}); chat template and EOS "
            f"{markers[0]!r} checked in its metadata"
        )
    if out.gguf:
        source, adapter = f"./{out.gguf}", None
    elif merged or spec.method.kind == "full":
        source, adapter = ".", None
    else:
        source, adapter = resolve_model_ref(spec.model.name_or_path), "."
    try:
        mf = build_modelfile(spec, tokenizer, source, adapter)
    except ModelfileError as exc:
        out.notes.append(f"no {MODELFILE}: {exc}")
        return out
    atomic_write_text(work / MODELFILE, mf.text, mode=0o644)
    out.modelfile = True
    return out


def serve_lines(folder: Path, spec: RunSpec, merged: bool, runtimes: Runtimes) -> list[str]:
    """The commands that serve the finished export, and what would stop one from working."""
    name = spec.name.lower()
    base = resolve_model_ref(spec.model.name_or_path)
    lines = [f"vllm:    {vllm_serve_command(str(folder), merged, base, spec, name)}"]
    if not merged and (warning := vllm_lora_warning(spec)):
        lines.append(f"warning: {warning}")
    if runtimes.modelfile:
        lines.append(f"ollama:  {ollama_create_command(name, str(folder / MODELFILE))}")
    if runtimes.gguf:
        lines.append(f"llama.cpp: llama-server -m {folder / runtimes.gguf} --jinja")
    return lines


def run_ollama_create(folder: Path, spec: RunSpec, runtimes: Runtimes) -> str | None:
    """`ollama create` when ollama is on PATH; its last line, or None when not run."""
    if not runtimes.modelfile or shutil.which("ollama") is None:
        return None
    argv = ollama_create_argv(spec.name.lower(), str(folder / MODELFILE))
    try:
        done = subprocess.run(
            argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=1800
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"ollama create failed: {exc}"
    text = (done.stdout + done.stderr).strip().splitlines()
    last = text[-1] if text else ""
    return f"ollama create {'ok' if done.returncode == 0 else 'failed'}: {last}"
