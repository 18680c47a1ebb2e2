"""Export a run's result: the adapter alone, or merged into the base, as safetensors.

Either way the folder also holds the tokenizer, a chat template matching the run's prompt
template where one can be written, a generation_config.json that stops at the template's
end-of-turn tokens, an Ollama Modelfile, optionally a GGUF (`gguf=`), and a README.md model
card made from config.yaml. It is written to a `.partial` folder beside the target first and
renamed at the end, so a failed export never leaves a half folder under the requested name.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ftui.core.atomic import atomic_write_text
from ftui.core.demo import resolve_model_ref
from ftui.core.model.tokenizer import load_tokenizer
from ftui.core.playground.export_card import model_card, template_jinja
from ftui.core.playground.export_runtimes import (
    Runtimes,
    run_ollama_create,
    serve_lines,
    write_runtimes,
)
from ftui.core.playground.generation_config import write_generation_config
from ftui.core.playground.gguf_export import OUTTYPES, GGUFError, find_converter
from ftui.core.playground.inference import run_weights_dir
from ftui.core.runs.checkpoints import CheckpointChoice
from ftui.core.runs.rundir import RunPaths
from ftui.core.spec import RunSpec, SpecError, config_problem, load_spec_file
from ftui.core.units import human_bytes

ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors")
EXPORT_INFO = "ftui_export.json"  # which run and weights an export came from (for --check)
DTYPES = {"bf16": "bfloat16", "fp16": "float16", "fp32": "float32"}
Progress = Callable[[str, float], None]


class ExportError(ValueError):
    pass


@dataclass
class ExportResult:
    out: Path
    merged: bool
    files: list[tuple[str, int]]  # relative path, bytes
    notes: list[str]
    serve: list[str] = field(default_factory=list)  # commands that serve it, and warnings
    runtimes: Runtimes = field(default_factory=Runtimes)

    @property
    def total_bytes(self) -> int:
        return sum(size for _, size in self.files)


def folder_files(folder: Path) -> list[tuple[str, int]]:
    return sorted(
        (str(p.relative_to(folder)), p.stat().st_size) for p in folder.rglob("*") if p.is_file()
    )


def merge_refusal(spec: RunSpec) -> str | None:
    """Why a merge is refused for this run (a quantized base), with the alternative."""
    q = spec.model.quantization
    if q == "none":
        return None
    return (
        f"--merge: the base model was loaded in {q} (model.quantization: {q}); merging an "
        f"adapter into {q} weights rounds it away or fails. Instead reload the base in bf16 "
        "and merge into that: add --base-dtype bf16 (needs the full bf16 model in memory), "
        "or export the adapter alone (without --merge)"
    )


def export_run(
    run_dir: str | Path,
    out: str | Path,
    checkpoint: CheckpointChoice = None,
    merge: bool = False,
    base_dtype: str | None = None,
    progress: Progress | None = None,
    gguf: str | None = None,
    llama_cpp: str | Path | None = None,
) -> ExportResult:
    """`gguf` (f16, bf16 or q8_0) adds a GGUF made by llama.cpp's converter (from the
    `llama_cpp` checkout, or the fetched one); it converts the merged model, so it merges."""
    report = progress or (lambda label, fraction: None)
    run = Path(run_dir)
    config = RunPaths(run).config
    if not config.is_file():
        raise ExportError(f"{run}: not a run directory (no {config.name})")
    try:
        spec = load_spec_file(config)
    except SpecError as exc:
        raise ExportError(config_problem(config, exc)) from None
    try:
        weights = run_weights_dir(run, checkpoint)
    except ValueError as exc:
        raise ExportError(str(exc)) from None
    if base_dtype is not None and base_dtype not in DTYPES:
        raise ExportError(f"--base-dtype: expected one of {', '.join(DTYPES)}, got {base_dtype}")
    if gguf is not None and gguf not in OUTTYPES:
        raise ExportError(f"--gguf: expected one of {', '.join(OUTTYPES)}, got {gguf}")
    notes: list[str] = []
    if gguf and not merge and spec.method.kind != "full":
        merge = True
        notes.append("--gguf converts a whole model: the adapter was merged into the base")
    if merge and base_dtype is None and (reason := merge_refusal(spec)):
        raise ExportError(reason)
    try:
        converter = find_converter(llama_cpp) if gguf else None
    except GGUFError as exc:
        raise ExportError(str(exc)) from None
    incomplete_weights(weights)
    target = Path(out)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ExportError(f"--out: {target} already exists and is not empty")
    work = _work_dir(target)
    try:
        notes += _write(spec, weights, work, merge, base_dtype, report)
        tokenizer = load_tokenizer(work, None, False)
        if gguf:
            report(f"converting to GGUF ({gguf}) with llama.cpp's converter", 0.9)
        runtimes = write_runtimes(spec, work, tokenizer, merge, gguf, converter)
        notes += runtimes.notes
        card = model_card(spec, run, weights, merged=merge, notes=notes)
        atomic_write_text(work / "README.md", card, mode=0o644)
        info = {"run": str(run.resolve()), "weights": weights.name, "checkpoint": checkpoint}
        info |= {"merged": merge, "gguf": runtimes.gguf, "modelfile": runtimes.modelfile}
        atomic_write_text(work / EXPORT_INFO, json.dumps(info, indent=2) + "\n", mode=0o644)
        if target.exists():
            target.rmdir()
        work.rename(target)
    except GGUFError as exc:
        shutil.rmtree(work, ignore_errors=True)
        raise ExportError(str(exc)) from None
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    serve = serve_lines(target.resolve(), spec, merge, runtimes)
    if (created := run_ollama_create(target.resolve(), spec, runtimes)) is not None:
        serve.append(created)
    report("done", 1.0)
    return ExportResult(target, merge, folder_files(target), notes, serve, runtimes)


def _work_dir(target: Path) -> Path:
    """The temp folder beside the target that becomes it; a clear error where it cannot be."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    except OSError as exc:
        raise ExportError(
            f"--out: cannot write into {target.parent} ({exc.strerror or exc}); choose a "
            "folder you can write to"
        ) from None


def incomplete_weights(weights: Path) -> None:
    """ExportError unless `weights` holds a whole adapter or a whole model in safetensors."""
    if (weights / "adapter_config.json").is_file():
        need = ["adapter_model.safetensors"]
    else:
        need = ["config.json"]
        if not any(weights.glob("*.safetensors")):
            need.append("*.safetensors")
    missing = [n for n in need if n != "*.safetensors" and not (weights / n).is_file()]
    missing += [n for n in need if n == "*.safetensors"]
    if missing:
        raise ExportError(
            f"{weights} is not a complete checkpoint (no {', '.join(missing)}): it was cut off "
            "while saving; pick another checkpoint with --checkpoint N"
        )


def _write(
    spec: RunSpec, weights: Path, work: Path, merge: bool, base_dtype: str | None, report: Progress
) -> list[str]:
    notes: list[str] = []
    has_adapter = (weights / "adapter_config.json").is_file()
    ref = resolve_model_ref(spec.model.name_or_path)
    kw = {"revision": spec.model.revision, "trust_remote_code": spec.model.trust_remote_code}
    if not has_adapter:
        if merge:
            notes.append("a full fine-tune: the weights are already a whole model (no merge)")
        report("copying the full model", 0.3)
        for path in weights.iterdir():
            if path.is_file() and (
                path.suffix == ".safetensors"
                or path.name.endswith(".safetensors.index.json")
                or path.name in ("config.json", "generation_config.json")
            ):
                shutil.copy2(path, work / path.name)
    elif merge:
        import torch
        from peft import PeftModel
        from transformers import AutoModelForCausalLM

        dtype = getattr(torch, DTYPES[base_dtype]) if base_dtype else _spec_dtype(spec)
        report(f"loading the base model ({dtype})", 0.1)
        from ftui.core.safe_load import load_causal_lm

        base = load_causal_lm(AutoModelForCausalLM, ref, dtype=dtype, **kw)
        report("merging the adapter (merge_and_unload)", 0.5)
        merged = PeftModel.from_pretrained(base, str(weights)).merge_and_unload()
        report("writing safetensors", 0.7)
        merged.save_pretrained(work, safe_serialization=True)
        if base_dtype and spec.model.quantization != "none":
            notes.append(
                f"merged into a {base_dtype} reload of the base; the adapter was trained "
                f"against the {spec.model.quantization} base, so outputs can differ slightly"
            )
    else:
        report("copying the adapter", 0.3)
        for name in ADAPTER_FILES:
            if not (weights / name).is_file():
                raise ExportError(f"{weights}: {name} is missing")
            shutil.copy2(weights / name, work / name)
    report("writing the tokenizer and chat template", 0.85)
    tok_src = weights if (weights / "tokenizer_config.json").is_file() else ref
    # The run's own copy of the tokenizer needs no revision (and runs no remote code).
    pinned = (
        (None, False) if tok_src == weights else (spec.model.revision, spec.model.trust_remote_code)
    )
    tokenizer = load_tokenizer(tok_src, *pinned)
    jinja = template_jinja(spec.template)
    if jinja is not None:
        tokenizer.chat_template = jinja
    elif spec.template.name != "tokenizer":
        notes.append(
            f"trained with ftui's {spec.template.name} template, which has no chat-template "
            "equivalent here: the tokenizer keeps its own; format prompts as the template does"
        )
    tokenizer.save_pretrained(work)
    # Where the run's template ends a turn, every runtime reading this file stops too.
    write_generation_config(work, spec, tokenizer)
    return notes


def _spec_dtype(spec: RunSpec) -> Any:
    """The torch dtype the spec trains in, or "auto" (the checkpoint's own)."""
    import torch

    if spec.model.dtype == "auto":
        return "auto"
    return getattr(torch, DTYPES[spec.model.dtype])


def hub_token() -> str | None:
    """A token from huggingface_hub's own store or HF_TOKEN; ftui never keeps one."""
    from huggingface_hub import get_token

    return get_token()


def push_to_hub(folder: Path, repo: str, token: str, private: bool = True) -> str:
    from huggingface_hub import HfApi

    api = HfApi(token=token)
    api.create_repo(repo, repo_type="model", private=private, exist_ok=True)
    info = api.upload_folder(
        folder_path=str(folder), repo_id=repo, repo_type="model", commit_message="Upload from ftui"
    )
    return str(getattr(info, "commit_url", None) or f"https://huggingface.co/{repo}")


def export_summary(
    result: ExportResult, push_repo: str | None = None, private: bool = True
) -> list[str]:
    """What was written (files and sizes) and, with push_repo, what was pushed or would be.

    Pushing needs a token from huggingface_hub's store or HF_TOKEN and a reachable hub;
    without them the lines say what would be uploaded. The token is never written anywhere.
    """
    kind = "merged model" if result.merged else "adapter"
    lines = [f"exported {kind} to {result.out}"]
    lines += [f"  {human_bytes(size):>10}  {name}" for name, size in result.files]
    lines.append(f"  total {human_bytes(result.total_bytes)}")
    lines += [f"note: {n}" for n in result.notes]
    lines += result.serve
    if not push_repo:
        return lines
    from huggingface_hub import constants

    token = hub_token()
    if token is None or constants.HF_HUB_OFFLINE:
        why = (
            "HF_HUB_OFFLINE is set"
            if constants.HF_HUB_OFFLINE
            else "no Hugging Face token (run `hf auth login` or set HF_TOKEN)"
        )
        visibility = "private" if private else "public"
        lines.append(f"not pushed: {why}. Would upload to {push_repo} ({visibility}):")
        lines += [f"  {human_bytes(size):>10}  {name}" for name, size in result.files]
        return lines
    try:
        url = push_to_hub(result.out, push_repo, token, private=private)
    except Exception as exc:  # network, permissions: the export itself is done
        text = str(exc).strip().splitlines()
        lines.append(f"push to {push_repo} failed: {text[0] if text else type(exc).__name__}")
        return lines
    lines.append(f"pushed to {url}")
    return lines
