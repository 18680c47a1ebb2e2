"""Builders for the worker: tokenizer, tokenised datasets (cached), model, TrainingArguments."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

from ftui.core import locations
from ftui.core.data.row_stats import RowStats
from ftui.core.demo import resolve_model_ref
from ftui.core.model.tokenizer import load_tokenizer
from ftui.core.runs.rundir import RunPaths
from ftui.core.spec import RunSpec
from ftui.train.collator import DynamicPadCollator, PackingCollator, TokenCounter

# Dense bf16 peak FLOP/s by GPU name fragment, first match wins (for MFU).
PEAK_BF16 = {
    "H100 PCIe": 756e12,
    "H100 NVL": 835e12,
    "H200": 989e12,
    "H100": 989e12,
    "A100": 312e12,
    "L40S": 362e12,
    "A10": 125e12,
    "L4": 121e12,
    "4090": 165e12,
    "3090": 71e12,
    "V100": 125e12,
}


def _world_size() -> int:
    import os

    return int(os.environ.get("WORLD_SIZE", "1"))


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def gpu_peak_flops() -> float | None:
    import torch

    if not torch.cuda.is_available():
        return None
    name = torch.cuda.get_device_name()
    return next((v for k, v in PEAK_BF16.items() if k in name), None)


def resolve_dtype(spec: RunSpec) -> str:
    """bf16 | fp16 | fp32 after resolving auto for this machine."""
    import torch

    from ftui.core.hardware import cpu_has_bf16, training_dtype

    cuda = torch.cuda.is_available()
    bf16 = cuda and torch.cuda.is_bf16_supported()
    return training_dtype(spec.model.dtype, cuda, bf16, not cuda and cpu_has_bf16())


def build_tokenizer(spec: RunSpec) -> tuple[Any, str]:
    """(tokenizer, where it was loaded from); the directory keys the token cache."""
    ref = resolve_model_ref(spec.model.name_or_path)
    return load_tokenizer(ref, spec.model.revision, spec.model.trust_remote_code), ref


# The token cache keeps RowStats next to the tokens: a change to its fields bumps this, so an
# old entry is tokenised again rather than read with the wrong counts.
STATS_LAYOUT = 2


def build_datasets(
    spec: RunSpec, tokenizer: Any, tokenizer_dir: str
) -> tuple[Any, Any, RowStats, str]:
    """Tokenised train/eval datasets, cached under a fingerprint of data, template, tokenizer
    and max_seq_len, so a relaunch or a resume does not tokenise again."""
    import dataclasses
    import json
    import shutil
    import tempfile

    import datasets

    from ftui.core.atomic import atomic_write_json
    from ftui.core.data import dataset as data

    fp = data.data_fingerprint(spec, tokenizer_dir)
    key = f"{fp}-{spec.train.seed}-{spec.data.eval_split or 'none'}-s{STATS_LAYOUT}"
    key = key.replace("/", "_")
    cache = locations.tokenized_cache_dir() / key
    meta = cache / "ftui_stats.json"
    if meta.is_file():
        stats = RowStats(**json.loads(meta.read_text()))
        train = datasets.load_from_disk(str(cache / "train"))
        ev = datasets.load_from_disk(str(cache / "eval")) if (cache / "eval").is_dir() else None
        return train, ev, stats, fp
    raw_train, raw_eval = data.load_train_eval(spec)
    if len(raw_train) == 0:
        raise data.DataError(f"data.split: {spec.data.split!r} has no rows")
    sample = [raw_train[i] for i in range(min(50, len(raw_train)))]
    det = data.resolve_mapping(spec.data, raw_train.column_names, sample)
    train, stats = data.tokenize_dataset(raw_train, det, spec, tokenizer)
    if stats.kept == 0:
        raise data.DataError(
            f"data: none of the {stats.rows} rows has a token to train (check data.columns and "
            "template.train_on_input; rows may be truncated at data.max_seq_len)"
        )
    ev = data.tokenize_dataset(raw_eval, det, spec, tokenizer)[0] if raw_eval is not None else None
    # A private temp dir: two runs tokenising the same data at once must not write into one.
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{cache.name}.", suffix=".tmp", dir=cache.parent))
    train.save_to_disk(str(tmp / "train"))
    if ev is not None:
        ev.save_to_disk(str(tmp / "eval"))
    atomic_write_json(tmp / "ftui_stats.json", dataclasses.asdict(stats))
    try:
        tmp.rename(cache)
    except OSError:  # another run cached the same data meanwhile: theirs is identical
        shutil.rmtree(tmp, ignore_errors=True)
    return train, ev, stats, fp


def _attn(spec: RunSpec) -> str:
    """sdpa by default; flash-attention-2 when it is installed and a CUDA GPU is there."""
    want = spec.model.attn_implementation
    if want != "auto":
        return want
    if cuda_available() and importlib.util.find_spec("flash_attn") is not None:
        return "flash_attention_2"
    return "sdpa"


def build_model(spec: RunSpec, args: Any) -> Any:
    import torch
    from transformers import AutoModelForCausalLM, set_seed

    ref = resolve_model_ref(spec.model.name_or_path)
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[
        resolve_dtype(spec)
    ]
    # Full fine-tuning keeps fp32 master weights under fp16 autocast, and under bf16 autocast
    # on the CPU (the matmuls run in bf16 either way; the updates do not round to bf16).
    master = spec.method.kind == "full" and (
        dtype == torch.float16 or (dtype == torch.bfloat16 and not cuda_available())
    )
    kwargs: dict[str, Any] = {
        "revision": spec.model.revision,
        "trust_remote_code": spec.model.trust_remote_code,
        "attn_implementation": _attn(spec),
        "dtype": torch.float32 if master else dtype,
        "use_safetensors": True,  # never unpickle .bin weights
    }
    if spec.model.quantization != "none":
        kwargs.update(_quantization_kwargs(spec, dtype))
    from ftui.core.safe_load import load_causal_lm

    # The Trainer seeds only when it is created, after this: seed here so that the adapter's
    # initialisation (and so the whole run) is the same for the same train.seed.
    set_seed(spec.train.seed)
    model = load_causal_lm(AutoModelForCausalLM, ref, **kwargs)
    model.config.use_cache = False
    if spec.method.kind == "full":
        return model
    from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training

    if spec.model.quantization != "none":
        model = prepare_model_for_kbit_training(
            model, use_gradient_checkpointing=spec.train.gradient_checkpointing
        )
    elif spec.train.gradient_checkpointing:
        model.enable_input_require_grads()
    lo = spec.method.lora
    config = LoraConfig(
        r=lo.r,
        lora_alpha=lo.alpha,
        lora_dropout=lo.dropout,
        target_modules=lo.target_modules,
        modules_to_save=lo.modules_to_save or None,
        use_dora=lo.use_dora,
        use_rslora=lo.use_rslora,
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, config)


def _quantization_kwargs(spec: RunSpec, dtype: Any) -> dict[str, Any]:
    import torch

    if not torch.cuda.is_available() or importlib.util.find_spec("bitsandbytes") is None:
        raise RuntimeError(
            f"model.quantization: {spec.model.quantization} needs a CUDA GPU and bitsandbytes "
            "installed; use model.quantization=none with method.kind=lora on this machine"
        )
    from transformers import BitsAndBytesConfig

    if spec.model.quantization == "8bit":
        return {"quantization_config": BitsAndBytesConfig(load_in_8bit=True)}
    return {
        "quantization_config": BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=dtype,
        )
    }


LIGER_KERNELS = {
    "fused_linear_cross_entropy": True,
    "cross_entropy": False,
    "rope": False,
    "rms_norm": False,
    "swiglu": False,
}

OPTIMIZERS = {"sgd": "sgd", "adafactor": "adafactor", "paged_adamw_8bit": "paged_adamw_8bit"}


def tracker_settings(spec: RunSpec, paths: RunPaths) -> dict[str, Any]:
    """The TrainingArguments for train.report_to, and where each tracker writes: TensorBoard
    into the run's tensorboard/ (unless TENSORBOARD_LOGGING_DIR says otherwise); wandb, mlflow
    and trackio where their own settings and logins say, the run named after its directory.
    No key is read or passed here: each tracker finds its own."""
    if not spec.train.report_to:
        return {"report_to": "none"}
    if "tensorboard" in spec.train.report_to:
        os.environ.setdefault("TENSORBOARD_LOGGING_DIR", str(paths.tensorboard))
    os.environ.setdefault("WANDB_PROJECT", "ftui")
    os.environ.setdefault("MLFLOW_EXPERIMENT_NAME", "ftui")
    return {"report_to": list(spec.train.report_to), "run_name": paths.root.name, "project": "ftui"}


def build_training_args(spec: RunSpec, paths: RunPaths, trackers: bool = False) -> Any:
    """The Trainer's arguments; trackers=True (the worker) lets train.report_to report."""
    from transformers import TrainingArguments

    tr = spec.train
    cuda = cuda_available()
    dtype = resolve_dtype(spec)
    optim = OPTIMIZERS.get(tr.optimizer, "adamw_torch_fused" if cuda else "adamw_torch")
    from ftui.core.launch.sharding import checkpointing_key

    ckpt = checkpointing_key()  # gradient_checkpointing before transformers 5
    kwargs: dict[str, Any] = dict(
        output_dir=str(paths.checkpoints),
        num_train_epochs=tr.epochs or 1.0,
        max_steps=tr.max_steps or -1,
        per_device_train_batch_size=tr.per_device_batch_size,
        per_device_eval_batch_size=tr.per_device_batch_size,
        gradient_accumulation_steps=tr.gradient_accumulation_steps,
        learning_rate=tr.learning_rate,
        weight_decay=tr.weight_decay,
        lr_scheduler_type=tr.lr_scheduler,
        warmup_steps=tr.warmup_steps,
        optim=optim,
        seed=tr.seed,
        data_seed=tr.seed,
        logging_steps=tr.logging_steps,
        logging_nan_inf_filter=False,  # a NaN loss must be seen, not averaged away
        eval_strategy="steps" if tr.eval_steps else "no",
        eval_steps=tr.eval_steps,
        save_strategy="steps" if tr.save_steps else "no",
        save_steps=tr.save_steps or 500,
        save_total_limit=None,  # rotation is ours: it never deletes the newest complete one
        save_only_model=False,
        **{
            ckpt: tr.gradient_checkpointing,
            f"{ckpt}_kwargs": {"use_reentrant": False} if tr.gradient_checkpointing else None,
        },
        # Liger's fused linear cross-entropy never materialises the full logits tensor: less
        # memory and time on large vocabularies, the same loss up to float rounding. Only that
        # kernel (its other kernels replace the model's own norms and activations). CUDA only.
        use_liger_kernel=(liger := cuda and importlib.util.find_spec("liger_kernel") is not None),
        liger_kernel_config=LIGER_KERNELS if liger else None,
        torch_compile=tr.torch_compile,
        bf16=dtype == "bf16",  # on the CPU too: accelerate autocasts the forward to bf16
        fp16=dtype == "fp16" and cuda,
        use_cpu=not cuda,
        ddp_backend="gloo" if not cuda and _world_size() > 1 else None,
        ddp_find_unused_parameters=False,
        train_sampling_strategy="group_by_length",
        remove_unused_columns=False,
        disable_tqdm=True,
        dataloader_num_workers=0,
        label_names=["labels"],
    )
    kwargs.update(tracker_settings(spec, paths) if trackers else {"report_to": "none"})
    kwargs.update(_sharding_args(spec))
    return TrainingArguments(**kwargs)


def _sharding_args(spec: RunSpec) -> dict[str, Any]:
    if spec.launch.strategy == "ddp":
        return {}
    from ftui.core.launch.sharding import sharding_training_args, strategy_problem

    problem = strategy_problem(spec, "cuda" if cuda_available() else "cpu")
    if problem:  # never fall back to DDP silently
        raise RuntimeError(problem)
    return sharding_training_args(spec, None)


def pick_collator(
    spec: RunSpec, tokenizer: Any, counter: TokenCounter, model: Any = None
) -> PackingCollator | DynamicPadCollator:
    """Padding-free packing when asked for and safe for `model`, else dynamic padding (to the
    batch's longest row; a multiple of 8 on CUDA for tensor cores). Never to max_length."""
    from ftui.train.packing_check import packing_usable

    if packing_usable(spec, model):
        return PackingCollator(counter)
    return DynamicPadCollator(tokenizer.pad_token_id, counter, 8 if cuda_available() else 1)
