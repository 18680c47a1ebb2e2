"""Load a run's result (base + adapter, or a full model) and generate with the run's template.

What you test is what you trained: prompts go through the same template and one tokenisation
(`encode`) as training, so the prompt tokens match the masked span the model learned after;
with `template: tokenizer` the prompt is exactly `apply_chat_template(...,
add_generation_prompt=True)`, what any server sends the model.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ftui.core.demo import resolve_model_ref
from ftui.core.model.tokenizer import load_tokenizer
from ftui.core.prompt.encode import encode
from ftui.core.prompt.templates import Conversation, Message, stop_strings
from ftui.core.runs.checkpoints import CheckpointChoice, WeightsNotReady, run_weights
from ftui.core.runs.rundir import RunPaths
from ftui.core.safe_load import load_causal_lm
from ftui.core.spec import RunSpec, SpecError, config_problem, load_spec_file


class InferenceError(ValueError):
    pass


@dataclass
class ChatModel:
    model: Any
    tokenizer: Any
    spec: RunSpec
    has_adapter: bool
    source: str
    # One model serves the chat, the compare view and the probes: generation and adapter
    # switches take this lock so they never interleave.
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    # adapter name -> weights dir; the one loaded first is "default".
    adapters: dict[str, str] = field(default_factory=dict)
    device: str = "cpu"

    @property
    def context_length(self) -> int | None:
        cfg = getattr(self.model, "config", None)
        value = getattr(cfg, "max_position_embeddings", None)
        return int(value) if isinstance(value, int) and value > 0 else None


# Whatever the spec says, one answer is never longer than this many tokens.
MAX_NEW_TOKENS_CAP = 4096
Progress = Callable[[str, float], None]


def run_weights_dir(run_dir: Path, checkpoint: CheckpointChoice = None) -> Path:
    """The run's weights to load (runs/checkpoints.run_weights decides), or InferenceError."""
    try:
        path = run_weights(run_dir, checkpoint)
    except WeightsNotReady as exc:
        raise InferenceError(str(exc)) from None
    assert path is not None  # only newest_if_unfinished may answer "the base"
    return path


def load_chat_model(
    target: str | Path,
    base: bool = False,
    checkpoint: CheckpointChoice = None,
    device: str | None = None,
    progress: Progress | None = None,
) -> ChatModel:
    """target is a run directory (config.yaml inside) or a model name/path.

    progress(label, fraction) is called between the loading steps (for a progress bar).
    """
    report = progress or (lambda label, fraction: None)
    report("importing torch and transformers", 0.05)
    import torch
    from transformers import AutoModelForCausalLM

    path = Path(target)
    looks_local = str(target).startswith(("/", ".", "~")) or path.exists()
    is_gguf = str(target).lower().endswith(".gguf") and path.is_file()  # dequantised once
    if looks_local and not path.is_dir() and not is_gguf:
        raise InferenceError(
            f"{target}: no such directory; give a run directory (runs/<name>-<timestamp>), "
            "a local model directory, a .gguf file or a hub id"
        )
    if RunPaths(path).config.is_file():
        try:
            spec = load_spec_file(RunPaths(path).config)
        except SpecError as exc:
            raise InferenceError(config_problem(RunPaths(path).config, exc)) from None
        weights = None if base else run_weights_dir(path, checkpoint)
    else:
        spec = RunSpec.model_validate(
            {"model": {"name_or_path": str(target)}, "template": {"name": "tokenizer"}}
        )
        weights = None
    ref = resolve_model_ref(spec.model.name_or_path)
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    dtype = torch.bfloat16 if device == "cuda" and torch.cuda.is_bf16_supported() else torch.float32
    kw = {"revision": spec.model.revision, "trust_remote_code": spec.model.trust_remote_code}
    has_adapter = weights is not None and (weights / "adapter_config.json").is_file()
    report(f"loading {Path(ref).name if Path(ref).exists() else ref}", 0.2)
    model: Any
    if weights is not None and not has_adapter:  # a full fine-tune: the weights are the model
        model = load_causal_lm(AutoModelForCausalLM, weights, dtype=dtype)
        tok_src: str | Path = weights
    else:
        model = load_causal_lm(AutoModelForCausalLM, ref, dtype=dtype, **kw)
        tok_src = (
            weights
            if weights is not None and (weights / "tokenizer_config.json").is_file()
            else ref
        )
        if has_adapter and weights is not None:
            from peft import PeftModel

            if not (weights / "adapter_model.safetensors").is_file():
                raise InferenceError(
                    f"{weights}: no adapter_model.safetensors (pickled adapters are not loaded)"
                )
            report(f"loading adapter {weights.name}", 0.6)
            model = PeftModel.from_pretrained(model, str(weights))
    report("loading tokenizer", 0.75)
    # The run's own copy of the tokenizer needs no revision (and runs no remote code).
    pinned = (
        (spec.model.revision, spec.model.trust_remote_code) if tok_src == ref else (None, False)
    )
    tokenizer = load_tokenizer(tok_src, *pinned)
    report(f"moving to {device}", 0.85)
    model.to(device)
    model.eval()
    report("ready", 1.0)
    cm = ChatModel(model, tokenizer, spec, has_adapter, str(weights or ref), device=device)
    if has_adapter:
        cm.adapters["default"] = str(weights)
    return cm


def bound_max_new_tokens(cm: ChatModel, prompt_len: int, requested: int) -> int:
    """requested, capped by MAX_NEW_TOKENS_CAP and by what is left of the model's context."""
    limit = min(max(1, requested), MAX_NEW_TOKENS_CAP)
    ctx = cm.context_length
    if ctx is not None:
        if prompt_len >= ctx:
            raise InferenceError(
                f"the conversation is {prompt_len} tokens, the model's context is {ctx}: "
                "clear the conversation"
            )
        limit = min(limit, ctx - prompt_len)
    return limit


def prompt_ids(cm: ChatModel, messages: list[Message]) -> list[int]:
    return encode(cm.spec.template, Conversation(messages), cm.tokenizer, gen=True).ids


def stop_token_ids(tokenizer: Any, spec: RunSpec) -> list[int]:
    ids = {tokenizer.eos_token_id} if tokenizer.eos_token_id is not None else set()
    for text in stop_strings(spec.template, tokenizer):
        piece = tokenizer.encode(text, add_special_tokens=False)
        if len(piece) == 1:
            ids.add(piece[0])
    return sorted(ids)


def generate_ids(
    model: Any,
    tokenizer: Any,
    ids: list[int],
    spec: RunSpec,
    max_new_tokens: int | None = None,
    streamer: Any = None,
    adapter: bool = True,
    stopping_criteria: Any = None,
    **overrides: Any,
) -> list[int]:
    """New token ids for a prompt (greedy when temperature is 0). EOS/stop tokens end it."""
    import contextlib

    import torch

    g = spec.generation.model_copy(update=overrides)
    device = next(model.parameters()).device
    input_ids = torch.tensor([ids], dtype=torch.long, device=device)
    sample = g.temperature > 0
    kwargs: dict[str, Any] = dict(
        max_new_tokens=max_new_tokens or g.max_new_tokens,
        do_sample=sample,
        eos_token_id=stop_token_ids(tokenizer, spec),
        pad_token_id=tokenizer.pad_token_id
        if tokenizer.pad_token_id is not None
        else tokenizer.eos_token_id,
        streamer=streamer,
    )
    if stopping_criteria is not None:
        kwargs["stopping_criteria"] = stopping_criteria
    if sample:
        kwargs.update(temperature=g.temperature, top_k=g.top_k or None, top_p=g.top_p)
    ctx = (
        model.disable_adapter()
        if not adapter and hasattr(model, "disable_adapter")
        else contextlib.nullcontext()
    )
    was_training = model.training
    model.eval()
    with torch.no_grad(), ctx:
        out = model.generate(
            input_ids=input_ids, attention_mask=torch.ones_like(input_ids), use_cache=True, **kwargs
        )
    if was_training:
        model.train()
    new = out[0, len(ids) :].tolist()
    stops = set(kwargs["eos_token_id"])
    while new and new[-1] in stops:
        new.pop()
    return new


def answer_ids(
    cm: ChatModel, prompt: str, system: str | None = None, adapter: bool = True, **gen: Any
) -> tuple[list[int], list[int]]:
    """(prompt ids, new ids) of one answer: what `answer` decodes, for a caller that needs
    the tokens (the parity check's divergence)."""
    messages = ([Message("system", system)] if system else []) + [Message("user", prompt)]
    ids = prompt_ids(cm, messages)
    with cm.lock:
        new = generate_ids(cm.model, cm.tokenizer, ids, cm.spec, adapter=adapter, **gen)
    return ids, new


def answer(
    cm: ChatModel, prompt: str, system: str | None = None, adapter: bool = True, **gen: Any
) -> str:
    new = answer_ids(cm, prompt, system, adapter, **gen)[1]
    return cm.tokenizer.decode(new, skip_special_tokens=True).strip()
