"""The exported model's generation_config.json: it stops where the run's template ends a turn.

transformers, vLLM and TGI end an answer at `generation_config.eos_token_id` and nothing else.
A ChatML run whose tokenizer's EOS is `</s>` learned to end every answer with `<|im_end|>`;
with only `</s>` there, a plain `generate` runs on to max_new_tokens ("Paris. Paris. …")
while `ftui chat` stops, because it adds the template's stop token itself
(`inference.stop_token_ids`). So the export writes that same list, as the official Llama-3
repos do (`[128001, 128009]`: `<|end_of_text|>` and `<|eot_id|>`), and the run's sampling
defaults (`generation:` in config.yaml).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ftui.core.atomic import atomic_write_text
from ftui.core.playground.inference import stop_token_ids
from ftui.core.prompt.templates import stop_strings
from ftui.core.spec import RunSpec

GENERATION_CONFIG = "generation_config.json"


def end_of_turn_markers(spec: RunSpec, tokenizer: Any) -> list[str]:
    """Every token text that ends an answer: the template's end-of-turn marker(s) and EOS."""
    markers = [m for m in stop_strings(spec.template, tokenizer)]
    eos = getattr(tokenizer, "eos_token", None)
    if eos and eos not in markers:
        markers.append(eos)
    return markers


def generation_config(spec: RunSpec, tokenizer: Any, base: dict[str, Any] | None = None) -> dict:
    """generation_config.json's content: `base` (the model's own, if any) with the stop tokens
    of the run's template and the run's sampling defaults put over it."""
    g = spec.generation
    out: dict[str, Any] = {
        k: v
        for k, v in (base or {}).items()
        if k not in ("do_sample", "temperature", "top_k", "top_p", "max_new_tokens")
    }
    eos = stop_token_ids(tokenizer, spec)
    out["eos_token_id"] = eos if len(eos) != 1 else eos[0]
    if tokenizer.bos_token_id is not None:
        out["bos_token_id"] = tokenizer.bos_token_id
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos[0]
    out["pad_token_id"] = pad
    out["max_new_tokens"] = g.max_new_tokens
    out["do_sample"] = g.temperature > 0
    if g.temperature > 0:  # greedy: sampling knobs would only make transformers warn
        out["temperature"] = g.temperature
        out["top_k"] = g.top_k
        out["top_p"] = g.top_p
    out.setdefault("transformers_version", _transformers_version())
    return out


def _transformers_version() -> str:
    import transformers

    return str(transformers.__version__)


def write_generation_config(folder: Path, spec: RunSpec, tokenizer: Any) -> dict:
    """Write (or rewrite) folder/generation_config.json; returns what was written."""
    path = folder / GENERATION_CONFIG
    base: dict[str, Any] = {}
    if path.is_file():
        base = json.loads(path.read_text("utf-8"))
    content = generation_config(spec, tokenizer, base)
    atomic_write_text(path, json.dumps(content, indent=2) + "\n", mode=0o644)
    return content
