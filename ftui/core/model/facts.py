"""What a model is, read from its config and tokenizer files only (never its weights).

`inspect_model` builds the architecture on the `meta` device (no memory, no download of
weights) to count parameters and list the layers LoRA can target (`ModuleSite`s).
`resolve_targets` says which of them a `method.lora.target_modules` value adapts, with peft's
own matching rules, so `lora_trainable_params`, the memory estimate and preflight's
`target_problem` all follow what peft will really build.
Downloads, the cache scan and the hub's errors are in `ftui.core.model.hub`; a GGUF file's
metadata and its dequantised copy are in `ftui.core.model.gguf`.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ftui.core.model import gguf
from ftui.core.model.gguf import GgufInfo
from ftui.core.model.hub import (
    GATED_ORGS,
    LOGIN_HINT,
    ModelError,
    hub_repo_errors,
    hub_repo_message,
    offline_message,
    resolve_ref,
)

REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")
LAYER_INDEX = re.compile(r"\.\d+(?=\.|$)")
# Module kinds peft's LoRA can adapt (anything else named in target_modules makes it fail).
ADAPTABLE = ("linear", "embedding", "conv")


@dataclass(frozen=True)
class ModuleSite:
    """One kind of module in the model: its path with layer indices collapsed
    (`model.layers.*.self_attn.q_proj`), what it is, its shape and how many there are."""

    path: str
    kind: str  # linear (nn.Linear, transformers' Conv1D), embedding, conv, or the class name
    fan_in: int = 0  # in_features (linear), num_embeddings (embedding)
    fan_out: int = 0  # out_features (linear), embedding_dim (embedding)
    count: int = 1

    @property
    def leaf(self) -> str:
        return self.path.rsplit(".", 1)[-1]


def collapse_indices(name: str) -> str:
    """`model.layers.3.mlp.up_proj` -> `model.layers.*.mlp.up_proj`."""
    return LAYER_INDEX.sub(".*", name)


@dataclass
class ModelFacts:
    name_or_path: str
    architecture: str
    model_type: str
    num_params: int | None
    hidden_size: int
    num_layers: int
    num_heads: int
    num_kv_heads: int
    intermediate_size: int | None
    vocab_size: int
    context_length: int | None
    tie_word_embeddings: bool
    torch_dtype: str | None
    has_chat_template: bool
    chat_template: str | None
    linear_module_names: list[str]
    is_local: bool
    gated_hint: str | None = None
    # Shapes behind the numbers: leaf name -> [(in_features, out_features, how many)].
    linear_shapes: dict[str, list[tuple[int, int, int]]] = field(default_factory=dict)
    # Parameters per module leaf name (summed over layers), for modules_to_save.
    module_params: dict[str, int] = field(default_factory=dict)
    output_layer: str = "lm_head"
    decoder_layer_classes: list[str] = field(default_factory=list)
    head_dim: int = 0  # attention head width (hidden_size / num_heads unless set apart)
    # Every module of the meta build, in model order (empty when the model could not be built:
    # then target names cannot be checked and counts fall back to the leaf shapes).
    module_sites: list[ModuleSite] = field(default_factory=list)
    # Set when model.name_or_path is a GGUF file: its quantisation and dequantised copy.
    gguf: GgufInfo | None = None


def _looks_like_path(ref: str) -> bool:
    return ref.startswith(("/", "./", "../", "~")) or os.path.isabs(ref) or "\\" in ref


def locate_config_dir(
    ref: str, revision: str | None = None, cache_dir: str | None = None
) -> tuple[Path, bool]:
    """(directory holding config.json, is_local). Raises ModelError with the fix."""
    path = Path(ref).expanduser()
    if path.exists():
        if not (path / "config.json").is_file():
            raise ModelError(
                f"{ref}: no config.json there; point model.name_or_path at a directory saved "
                "with save_pretrained (config.json + safetensors)"
            )
        return path, True
    if _looks_like_path(ref) or not REPO_ID.match(ref):
        raise ModelError(
            f"{ref}: no such directory; give an existing local path or a hub id such as "
            "Qwen/Qwen2.5-0.5B-Instruct"
        )
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        cfg = hf_hub_download(ref, "config.json", revision=revision, cache_dir=cache_dir)
    except hub_repo_errors() as exc:
        raise ModelError(hub_repo_message(exc, ref, revision)) from None
    except LocalEntryNotFoundError:
        raise ModelError(offline_message(ref)) from None
    except OSError as exc:  # connection errors, disk errors
        raise ModelError(f"{ref}: cannot fetch config.json: {exc}") from None
    return Path(cfg).parent, False


def _read_chat_template(folder: Path) -> str | None:
    jinja = folder / "chat_template.jinja"
    if jinja.is_file():
        return jinja.read_text(encoding="utf-8")
    for name in ("chat_template.json", "tokenizer_config.json"):
        f = folder / name
        if f.is_file():
            try:
                template = json.loads(f.read_text(encoding="utf-8")).get("chat_template")
            except (OSError, ValueError, AttributeError):
                continue
            if isinstance(template, list):  # named templates: take "default"
                named = {t.get("name"): t.get("template") for t in template}
                template = named.get("default") or next(iter(named.values()), None)
            if template:
                return str(template)
    return None


def _fetch_tokenizer_files(ref: str, revision: str | None, cache_dir: str | None) -> None:
    """Bring the small tokenizer/chat-template files of a hub model into the cache."""
    from huggingface_hub import hf_hub_download

    for name in ("tokenizer_config.json", "chat_template.jinja", "chat_template.json"):
        try:
            hf_hub_download(ref, name, revision=revision, cache_dir=cache_dir)
        except Exception:
            continue


def _meta_model(config: Any, trust_remote_code: bool) -> Any:
    import torch
    from transformers import AutoModelForCausalLM

    with torch.device("meta"):
        return AutoModelForCausalLM.from_config(config, trust_remote_code=trust_remote_code)


def _site_of(full: str, mod: Any) -> ModuleSite:
    """What peft's LoRA sees in a module: the same classes its `all-linear` and its layer
    dispatch accept (nn.Linear and transformers' Conv1D, as gpt2 uses, count as linear)."""
    import torch
    from transformers.pytorch_utils import Conv1D

    path = collapse_indices(full)
    if isinstance(mod, torch.nn.Linear):
        return ModuleSite(path, "linear", mod.in_features, mod.out_features)
    if isinstance(mod, Conv1D):  # weight is (in, out): the transpose of nn.Linear's
        return ModuleSite(path, "linear", int(mod.weight.shape[0]), int(mod.nf))
    if isinstance(mod, torch.nn.Embedding):
        return ModuleSite(path, "embedding", mod.num_embeddings, mod.embedding_dim)
    if isinstance(mod, (torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Conv3d)):
        return ModuleSite(path, "conv", mod.in_channels, mod.out_channels)
    return ModuleSite(path, type(mod).__name__)


def _shapes(
    model: Any,
) -> tuple[dict[str, list[tuple[int, int, int]]], dict[str, int], str, list[ModuleSite]]:
    out_emb = model.get_output_embeddings()
    output_layer = "lm_head"
    counts: dict[tuple[str, int, int], int] = {}
    module_params: dict[str, int] = {}
    sites: dict[ModuleSite, int] = {}  # insertion order = model order
    for full, mod in model.named_modules():
        if not full:
            continue
        leaf = full.rsplit(".", 1)[-1]
        module_params[leaf] = module_params.get(leaf, 0) + sum(p.numel() for p in mod.parameters())
        if mod is out_emb:
            output_layer = leaf
        site = _site_of(full, mod)
        sites[site] = sites.get(site, 0) + 1
        if site.kind == "linear":
            key = (leaf, site.fan_in, site.fan_out)
            counts[key] = counts.get(key, 0) + 1
    shapes: dict[str, list[tuple[int, int, int]]] = {}
    for (leaf, fan_in, fan_out), n in counts.items():
        shapes.setdefault(leaf, []).append((fan_in, fan_out, n))
    found = [ModuleSite(s.path, s.kind, s.fan_in, s.fan_out, count=n) for s, n in sites.items()]
    return shapes, module_params, output_layer, found


def _llama_like_shapes(
    text: Any, config: Any
) -> tuple[dict[str, list[tuple[int, int, int]]], dict[str, int]]:
    """Shapes of a Llama-style decoder from the config alone, for models that cannot be built
    on the meta device: close enough for a parameter count and a memory estimate."""
    h = int(getattr(text, "hidden_size", 0) or 0)
    layers = int(getattr(text, "num_hidden_layers", 0) or 0)
    heads = int(getattr(text, "num_attention_heads", 0) or 0)
    vocab = int(getattr(text, "vocab_size", 0) or 0)
    if not (h and layers and heads and vocab):
        return {}, {}
    head_dim = int(getattr(text, "head_dim", None) or h // heads)
    kv = int(getattr(text, "num_key_value_heads", None) or heads) * head_dim
    i = int(getattr(text, "intermediate_size", None) or 4 * h)
    shapes = {
        "q_proj": [(h, heads * head_dim, layers)],
        "k_proj": [(h, kv, layers)],
        "v_proj": [(h, kv, layers)],
        "o_proj": [(heads * head_dim, h, layers)],
        "gate_proj": [(h, i, layers)],
        "up_proj": [(h, i, layers)],
        "down_proj": [(i, h, layers)],
        "lm_head": [(h, vocab, 1)],
    }
    tied = bool(getattr(config, "tie_word_embeddings", False))
    params = {leaf: sum(a * b * n for a, b, n in s) for leaf, s in shapes.items()}
    params["embed_tokens"] = vocab * h
    params["norm"] = (2 * layers + 1) * h
    if tied:
        params["lm_head"] = 0
    return shapes, params


def _read_config(
    ref: str, folder: Path, is_local: bool, revision: str | None, trust_remote_code: bool
) -> Any:
    from transformers import AutoConfig

    source = str(folder) if (is_local or not trust_remote_code) else ref
    try:
        return AutoConfig.from_pretrained(
            source, revision=None if is_local else revision, trust_remote_code=trust_remote_code
        )
    except ValueError as exc:
        if "trust_remote_code" in str(exc):
            raise ModelError(
                f"{ref} ships its own model code; set model.trust_remote_code=true and pin "
                "model.revision only after reading that code"
            ) from None
        raise ModelError(
            f"{ref}: this transformers cannot read its config ({str(exc).splitlines()[0]}); "
            "upgrade transformers"
        ) from None


def inspect_model(
    name_or_path: str,
    revision: str | None = None,
    trust_remote_code: bool = False,
    cache_dir: str | None = None,
) -> ModelFacts:
    """Facts about a local, cached or hub model, or a GGUF file. Raises ModelError with the fix."""
    gguf_info = None
    if gguf.is_gguf_ref(name_or_path):
        # Read from the file's metadata: the (slow) dequantised copy is made on first use.
        try:
            path = gguf.gguf_file(name_or_path)
            gguf_info = gguf.gguf_info(path)
            config = gguf.read_config(path)
        except gguf.GgufError as exc:
            raise ModelError(str(exc).removeprefix("model.name_or_path: ")) from None
        ref, folder, is_local = str(path), path.parent, True
    else:
        ref = resolve_ref(name_or_path)
        folder, is_local = locate_config_dir(ref, revision, cache_dir)
        config = _read_config(ref, folder, is_local, revision, trust_remote_code)
    if not is_local:
        _fetch_tokenizer_files(ref, revision, cache_dir)
    text = config.get_text_config() if hasattr(config, "get_text_config") else config
    heads = int(getattr(text, "num_attention_heads", 0) or 0)
    hidden = int(getattr(text, "hidden_size", 0) or 0)
    num_params = None
    shapes: dict[str, list[tuple[int, int, int]]] = {}
    module_params: dict[str, int] = {}
    output_layer, decoder = "lm_head", []
    sites: list[ModuleSite] = []
    architecture = (getattr(config, "architectures", None) or [""])[0]
    try:
        model = _meta_model(config, trust_remote_code)
        architecture = architecture or type(model).__name__
        num_params = sum(p.numel() for p in model.parameters())
        shapes, module_params, output_layer, sites = _shapes(model)
        decoder = sorted(getattr(model, "_no_split_modules", None) or [])
    except Exception:  # remote code that cannot build on meta, or not a causal LM
        shapes, module_params = _llama_like_shapes(text, config)
        num_params = sum(module_params.values()) if module_params else None
    template = gguf.chat_template(Path(ref)) if gguf_info else _read_chat_template(folder)
    dtype = config.dtype if hasattr(config, "dtype") else getattr(config, "torch_dtype", None)
    if gguf_info is not None:
        dtype = gguf_info.dequantised_dtype  # what the weights are once loaded
    org = ref.split("/", 1)[0]
    return ModelFacts(
        name_or_path=name_or_path,
        architecture=architecture or type(config).__name__,
        model_type=str(getattr(config, "model_type", "")),
        num_params=num_params,
        hidden_size=hidden,
        num_layers=int(getattr(text, "num_hidden_layers", 0) or 0),
        num_heads=heads,
        num_kv_heads=int(getattr(text, "num_key_value_heads", None) or heads),
        intermediate_size=getattr(text, "intermediate_size", None),
        vocab_size=int(getattr(text, "vocab_size", 0) or 0),
        context_length=getattr(text, "max_position_embeddings", None),
        tie_word_embeddings=bool(getattr(config, "tie_word_embeddings", False)),
        torch_dtype=str(dtype).replace("torch.", "") if dtype else None,
        has_chat_template=template is not None,
        chat_template=template,
        linear_module_names=sorted(shapes),
        is_local=is_local,
        gated_hint=None
        if is_local or org not in GATED_ORGS
        else f"{org} models are often gated: {LOGIN_HINT.format(name=ref)}",
        linear_shapes=shapes,
        module_params=module_params,
        output_layer=output_layer,
        decoder_layer_classes=decoder,
        head_dim=int(getattr(text, "head_dim", None) or hidden // max(1, heads)),
        module_sites=sites,
        gguf=gguf_info,
    )


def linear_layer_names(facts: ModelFacts) -> list[str]:
    """Leaf names of the linear layers LoRA can target, in model order, without the output
    head: what `all-linear` resolves to (c_attn, c_proj, c_fc on gpt2)."""
    if not facts.module_sites:
        return [n for n in facts.linear_module_names if n != facts.output_layer]
    names = [s.leaf for s in facts.module_sites if s.kind == "linear"]
    return [n for n in dict.fromkeys(names) if n != facts.output_layer]


def _target_keys(target_modules: list[str] | str) -> list[str]:
    return [target_modules] if isinstance(target_modules, str) else list(target_modules)


def _matches(site: ModuleSite, key: str) -> bool:
    """peft's rule for a list of names: the module's name is the key or ends with `.key`."""
    key = collapse_indices(key)
    return site.path == key or site.path.endswith("." + key)


def resolve_targets(facts: ModelFacts, target_modules: list[str] | str) -> list[ModuleSite]:
    """The module sites peft adapts for this `target_modules` value.

    `all-linear` is peft's own shorthand: every nn.Linear / Conv1D except the output head. It
    is ftui's default rather than peft's per-architecture table
    (TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING) because it names real modules of
    every architecture, including ones that table lacks (phi3, olmo2, granite, smollm3), and
    adapting the MLP as well as attention is what QLoRA found to match full fine-tuning;
    the cost is a somewhat larger adapter, which the trainable count and estimate show.
    """
    if not facts.module_sites:  # no meta build: the leaf shapes are all there is
        leaves = set(target_leaves(facts, target_modules))
        return [
            ModuleSite(leaf, "linear", a, b, n)
            for leaf in sorted(leaves)
            for a, b, n in facts.linear_shapes[leaf]
        ]
    if target_modules == "all-linear":
        return [
            s for s in facts.module_sites if s.kind == "linear" and s.leaf != facts.output_layer
        ]
    keys = _target_keys(target_modules)
    return [
        s for s in facts.module_sites if s.kind in ADAPTABLE and any(_matches(s, k) for k in keys)
    ]


def target_problem(facts: ModelFacts, target_modules: list[str] | str) -> str | None:
    """Why peft would refuse these target modules on this model (names that match no module,
    or only modules LoRA cannot adapt), naming the linear layers the model does have."""
    if not facts.module_sites:
        return None  # the model was not built on meta: nothing to check names against
    linear = linear_layer_names(facts)
    offer = (
        f"its linear layers are {', '.join(linear)}; use all-linear or some of those"
        if linear
        else "it has no linear layers LoRA can adapt; use method.kind=full"
    )
    model = f"this {facts.model_type or facts.architecture} model"
    if target_modules == "all-linear":
        return (
            None
            if linear
            else f"method.lora.target_modules: all-linear finds nothing in {model}; {offer}"
        )
    missing, unusable = [], []
    for key in _target_keys(target_modules):
        found = [s for s in facts.module_sites if _matches(s, key)]
        if not found:
            missing.append(key)
        elif not any(s.kind in ADAPTABLE for s in found):
            unusable.append(f"{key} (a {found[0].kind})")
    if missing:
        return f"method.lora.target_modules: {', '.join(missing)} not found in {model}; {offer}"
    if unusable:
        return (
            f"method.lora.target_modules: {', '.join(unusable)} is not a layer LoRA can adapt "
            f"in {model}; {offer}"
        )
    return None


def target_leaves(facts: ModelFacts, target_modules: list[str] | str) -> list[str]:
    """Linear leaf names a LoRA target list hits (`all-linear`: every linear but the output)."""
    if facts.module_sites:
        return sorted(
            {s.leaf for s in resolve_targets(facts, target_modules) if s.kind == "linear"}
        )
    if target_modules == "all-linear":
        return [n for n in facts.linear_module_names if n != facts.output_layer]
    keys = _target_keys(target_modules)
    return sorted({k.rsplit(".", 1)[-1] for k in keys} & set(facts.linear_shapes))


def target_shapes(facts: ModelFacts, target_modules: list[str] | str) -> list[tuple[int, int, int]]:
    """(fan_in, fan_out, how many) of every linear layer the targets adapt."""
    return [
        (s.fan_in, s.fan_out, s.count)
        for s in resolve_targets(facts, target_modules)
        if s.kind == "linear"
    ]


def adapter_params(facts: ModelFacts, spec: Any) -> tuple[int, int]:
    """(adapter, saved): the LoRA matrices the spec adds, from the real layer shapes, and the
    parameters of the full copies modules_to_save trains; (0, 0) for a full fine-tune.

    LoRA adds r*(in+out) per targeted linear or embedding (plus `out` for DoRA's magnitude
    vector); modules_to_save trains a full copy of each named module.
    """
    method = getattr(spec, "method", spec)
    if method.kind == "full":
        return 0, 0
    lora = method.lora
    added = 0
    for site in resolve_targets(facts, lora.target_modules):
        if site.kind in ("linear", "embedding"):
            per = lora.r * (site.fan_in + site.fan_out) + (site.fan_out if lora.use_dora else 0)
            added += site.count * per
    saved = sum(facts.module_params.get(m, 0) for m in lora.modules_to_save)
    return added, saved


def lora_trainable_params(facts: ModelFacts, spec: Any) -> tuple[int, int]:
    """(trainable, total) parameters for the spec's method, as peft counts them: the total
    holds the base model, the adapter and the modules_to_save copies. Full trains all."""
    method = getattr(spec, "method", spec)
    base = facts.num_params or 0
    if method.kind == "full":
        return base, base
    added, saved = adapter_params(facts, spec)
    return added + saved, base + added + saved
