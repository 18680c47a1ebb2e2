"""Load a run's result (base + adapter, or a full model) and generate with the run's template.

What you test is what you trained: prompts go through the same `render()` + `tokenize_segments`
as training, so the prompt tokens match the masked span the model learned after.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ftui.core.demo import resolve_model_ref
from ftui.core.spec import RunSpec, load_spec_file
from ftui.core.templates import Conversation, Message, render, stop_strings, tokenize_segments


class InferenceError(ValueError):
    pass


@dataclass
class ChatModel:
    model: Any
    tokenizer: Any
    spec: RunSpec
    has_adapter: bool
    source: str


def run_weights_dir(run_dir: Path, checkpoint: int | None = None) -> Path:
    if checkpoint is not None:
        path = run_dir / "checkpoints" / f"checkpoint-{checkpoint}"
        if not path.is_dir():
            raise InferenceError(
                f"checkpoint {checkpoint} not found under {run_dir / 'checkpoints'}"
            )
        return path
    final = run_dir / "final"
    if final.is_dir():
        return final
    raise InferenceError(
        f"{run_dir} has no final/ model yet (the run has not completed); "
        "pick a checkpoint or wait for the run to finish"
    )


def load_chat_model(
    target: str | Path, base: bool = False, checkpoint: int | None = None, device: str | None = None
) -> ChatModel:
    """target is a run directory (config.yaml inside) or a model name/path."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = Path(target)
    if (path / "config.yaml").is_file():
        spec = load_spec_file(path / "config.yaml")
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
    if weights is not None and not has_adapter:  # a full fine-tune: the weights are the model
        model = AutoModelForCausalLM.from_pretrained(weights, dtype=dtype, use_safetensors=True)
        tok_src: str | Path = weights
    else:
        model = AutoModelForCausalLM.from_pretrained(ref, dtype=dtype, **kw)
        tok_src = (
            weights
            if weights is not None and (weights / "tokenizer_config.json").is_file()
            else ref
        )
        if has_adapter:
            from peft import PeftModel

            model = PeftModel.from_pretrained(model, str(weights))
    tokenizer = AutoTokenizer.from_pretrained(tok_src, **({} if tok_src != ref else kw))
    model.to(device)
    model.eval()
    return ChatModel(model, tokenizer, spec, has_adapter, str(weights or ref))


def prompt_ids(cm: ChatModel, messages: list[Message]) -> list[int]:
    segs = render(cm.spec.template, Conversation(messages), cm.tokenizer, gen=True)
    return tokenize_segments(segs, cm.tokenizer)[0]


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


def answer(
    cm: ChatModel, prompt: str, system: str | None = None, adapter: bool = True, **gen: Any
) -> str:
    messages = ([Message("system", system)] if system else []) + [Message("user", prompt)]
    new = generate_ids(
        cm.model, cm.tokenizer, prompt_ids(cm, messages), cm.spec, adapter=adapter, **gen
    )
    return cm.tokenizer.decode(new, skip_special_tokens=True).strip()
