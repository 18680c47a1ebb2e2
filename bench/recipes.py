"""The training recipes the bench compares, and how one run is measured.

Each recipe trains one epoch of the same rows with the same LoRA config, batch size and model,
and returns a `Measured`: real (non-padding) tokens, trained (labelled) tokens, padded tokens,
seconds inside `trainer.train()` (model loading and tokenising are setup, not timed), peak
memory, the precision the forward actually ran in, and the causal attention pairs for MFU.
Tokens are counted from the batches the Trainer actually received, by one wrapper around each
recipe's own collator.
"""

from __future__ import annotations

import ctypes
import gc
import inspect
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LORA = dict(r=16, lora_alpha=32, lora_dropout=0.05, target_modules="all-linear")


@dataclass
class Setup:
    """What every recipe shares: model dir (with tokenizer), data file, batch, max length."""

    model_dir: Path
    data_file: Path
    batch: int
    max_len: int
    work: Path
    cuda: bool
    rows: int = 0
    extra: dict[str, Any] = field(default_factory=dict)  # pad_id, template, system_prompt


@dataclass
class Measured:
    real: int = 0
    trained: int = 0  # positions whose label is not -100
    padded: int = 0
    pairs: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # this process's CPU time: steady when other processes share the CPU
    peak_mem_gb: float = 0.0
    monitor_seconds: float = 0.0
    precision: str = ""  # what the forward ran in: "bf16 autocast", "float32", ...
    note: str = ""  # what the recipe could not do as asked (a lever missing, ...)
    settings: dict[str, str] = field(default_factory=dict)  # the trainer's settings in effect
    model: Any = None  # kept only long enough to compute FLOPs

    @property
    def tokens_per_s(self) -> float:
        return self.real / self.seconds if self.seconds else 0.0


class Counting:
    """Wraps a collator; counts real tokens, padded tokens and causal pairs of each batch."""

    def __init__(self, inner: Any, m: Measured):
        self.inner, self.m = inner, m

    def __call__(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        batch = self.inner(rows)
        ids = batch["input_ids"]
        self.m.padded += int(ids.numel())
        if batch.get("labels") is not None:
            self.m.trained += int((batch["labels"] != -100).sum())
        for n in row_lengths(batch):
            self.m.real += n
            self.m.pairs += n * (n + 1) // 2
        return batch


def row_lengths(batch: dict[str, Any]) -> list[int]:
    """Sample lengths in a padded (attention_mask) or packed (position_ids) batch."""
    if batch.get("attention_mask") is not None:
        return [int(x) for x in batch["attention_mask"].sum(dim=1).tolist()]
    if batch.get("position_ids") is not None:
        out: list[int] = []
        for row in batch["position_ids"].tolist():
            starts = [i for i, p in enumerate(row) if p == 0] + [len(row)]
            out += [b - a for a, b in zip(starts, starts[1:], strict=False)]
        return out
    return [int(batch["input_ids"].shape[1])] * int(batch["input_ids"].shape[0])


class PeakMemory:
    """Peak RSS (sampled every 20 ms) on the CPU; torch.cuda.max_memory_allocated on a GPU."""

    def __init__(self, cuda: bool):
        self.cuda, self.peak, self._stop = cuda, 0, threading.Event()

    def __enter__(self) -> PeakMemory:
        gc.collect()
        if self.cuda:
            import torch

            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()
        else:
            _malloc_trim()  # give freed memory of earlier runs back, so RSS is this run's
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def _sample(self) -> None:
        page = os.sysconf("SC_PAGE_SIZE")
        while not self._stop.is_set():
            with open("/proc/self/statm") as fh:
                self.peak = max(self.peak, int(fh.read().split()[1]) * page)
            time.sleep(0.02)

    def __exit__(self, *exc: object) -> None:
        if self.cuda:
            import torch

            self.peak = torch.cuda.max_memory_allocated()
        else:
            self._stop.set()
            self._thread.join()


def _malloc_trim() -> None:
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def timed_train(trainer: Any, m: Measured, cuda: bool) -> Measured:
    """Run trainer.train() and time it; the only device syncs are at the two ends."""
    import torch

    hook = _precision_probe(trainer.model, m)
    with PeakMemory(cuda) as mem:
        if cuda:
            torch.cuda.synchronize()
        start, cpu = time.perf_counter(), time.process_time()
        trainer.train()
        if cuda:
            torch.cuda.synchronize()
        m.seconds = time.perf_counter() - start
        m.cpu_seconds = time.process_time() - cpu
    hook.remove()
    m.peak_mem_gb = mem.peak / 2**30
    m.model = trainer.model
    return m


def _precision_probe(model: Any, m: Measured) -> Any:
    """A forward pre-hook on the model's first linear layer that records, once, the precision
    its matmul runs in (autocast's dtype when autocast is on) and its weights' dtype."""
    import torch

    layer = next(x for x in model.modules() if isinstance(x, torch.nn.Linear))

    def probe(module: Any, _inputs: Any) -> None:
        if m.precision:
            return
        kind, weights = module.weight.device.type, _short(module.weight.dtype)
        if torch.is_autocast_enabled(kind):
            auto = _short(torch.get_autocast_dtype(kind))
            m.precision = f"{auto} autocast, {weights} weights"
        else:
            m.precision = weights

    return layer.register_forward_pre_hook(probe)


def _short(dtype: Any) -> str:
    return {"torch.bfloat16": "bf16", "torch.float16": "fp16", "torch.float32": "fp32"}.get(
        str(dtype), str(dtype)
    )


def _common_args(s: Setup) -> dict[str, Any]:
    return dict(
        output_dir=str(s.work / "out"),
        per_device_train_batch_size=s.batch,
        num_train_epochs=1,
        save_strategy="no",
        report_to="none",
        disable_tqdm=True,
        use_cpu=not s.cuda,
        seed=42,
    )


def _bf16(s: Setup, precision: str | None) -> bool:
    """bf16 for the HF recipes (weights and autocast, as ftui's model.dtype bf16 trains): on
    CUDA always, on the CPU when asked."""
    return s.cuda or precision == "bf16"


def padded_recipe(s: Setup, tokenised: Any, precision: str | None = None) -> Measured:
    """(a) The usual hand-written recipe: every row padded to max_length, HF Trainer, LoRA.

    `tokenised` is ftui's tokenisation of the same rows (ids + labels), so all three recipes
    see the same tokens; here each row is padded to max_len up front, as `tokenizer(...,
    padding="max_length")` in a `map` would, and batched by the default collator."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import (
        AutoModelForCausalLM,
        Trainer,
        TrainingArguments,
        default_data_collator,
    )

    pad_id, n = int(s.extra["pad_id"]), s.max_len

    def pad(row: dict[str, Any]) -> dict[str, Any]:
        k = len(row["input_ids"])
        return {
            "input_ids": row["input_ids"] + [pad_id] * (n - k),
            "labels": row["labels"] + [-100] * (n - k),
            "attention_mask": [1] * k + [0] * (n - k),
        }

    ds = tokenised.map(pad, remove_columns=tokenised.column_names)
    dtype = torch.bfloat16 if _bf16(s, precision) else torch.float32
    model = AutoModelForCausalLM.from_pretrained(s.model_dir, dtype=dtype)
    model = get_peft_model(model, LoraConfig(task_type="CAUSAL_LM", **LORA))
    m = Measured()
    args = TrainingArguments(**_common_args(s), bf16=_bf16(s, precision), learning_rate=2e-4)
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=ds,
        data_collator=Counting(default_data_collator, m),
    )
    return timed_train(trainer, m, s.cuda)


def sft_recipe(s: Setup, raw: Any, tuned: dict[str, Any] | None = None) -> Measured:
    """(b) TRL's SFTTrainer with its defaults, given the model path, prompt-completion
    conversations and the same LoRA config. Only what every recipe must share is set: batch
    size, one epoch, max_length (so it trains the same tokens), no checkpoints, CPU or not.
    `tuned`: SFTConfig fields set on top (the GPU suite's "TRL tuned")."""
    from peft import LoraConfig
    from trl import SFTConfig, SFTTrainer

    system = s.extra.get("system_prompt")
    head = [{"role": "system", "content": system}] if system else []
    ds = raw.map(
        lambda r: {
            "prompt": [*head, {"role": "user", "content": _prompt(r)}],
            "completion": [{"role": "assistant", "content": r["output"]}],
        },
        remove_columns=raw.column_names,
    )
    m = Measured()
    args = SFTConfig(**{**_common_args(s), "max_length": s.max_len, **(tuned or {})})
    trainer = SFTTrainer(
        model=str(s.model_dir),
        args=args,
        train_dataset=ds,
        peft_config=LoraConfig(task_type="CAUSAL_LM", **LORA),
    )
    trainer.data_collator = Counting(trainer.data_collator, m)
    m.settings = {k: str(getattr(args, k, "-")) for k in SFT_SHOWN}
    return timed_train(trainer, m, s.cuda)


# The SFTConfig values the bench prints for each SFT recipe (what was in effect).
SFT_SHOWN = (
    "gradient_checkpointing",
    "bf16",
    "packing",
    "padding_free",
    "completion_only_loss",
    "train_sampling_strategy",
    "optim",
    "max_length",
    "model_init_kwargs",
)


def _prompt(r: dict[str, str]) -> str:
    return r["instruction"] + (f"\n\n{r['input']}" if r["input"] else "")


def ftui_spec(s: Setup, packing: bool, dtype: str = "auto"):  # type: ignore[no-untyped-def]
    from ftui.core.spec import spec_from_dict

    template: dict[str, Any] = {"name": s.extra.get("template", "chatml")}
    if s.extra.get("system_prompt"):
        template["system_prompt"] = s.extra["system_prompt"]
    return spec_from_dict(
        {
            "name": "bench",
            "model": {"name_or_path": str(s.model_dir), "dtype": dtype},
            "data": {
                "source": str(s.data_file),
                "format": "instruction",
                "columns": {"prompt": "instruction", "input": "input", "response": "output"},
                "max_seq_len": s.max_len,
                "packing": packing,
            },
            "template": template,
            "method": {
                "kind": "lora",
                "lora": {"r": 16, "alpha": 32, "dropout": 0.05, "target_modules": "all-linear"},
            },
            "train": {
                "epochs": 1,
                "per_device_batch_size": s.batch,
                "learning_rate": 2e-4,
                "save_steps": None,
                "seed": 42,
            },
        }
    )


def ftui_recipe(
    s: Setup,
    packing: bool,
    tune: Callable[[Any, Any], None] | None = None,
    dtype: str = "auto",
    logits_on_trained_only: bool | None = None,
) -> Measured:
    """(c) ftui's worker path in-process: its build functions, collator, TrainingArguments and
    its monitoring callback writing events.jsonl (its cost is timed separately too).
    `tune(spec, args)` may change the spec before the arguments are built and the arguments
    before the Trainer reads them (it is called twice: args None, then the arguments).
    `dtype` is the spec's model.dtype; `logits_on_trained_only` is passed to FtuiTrainer
    where its constructor has the lever (None: its default)."""
    from ftui.core.runs.events import EventWriter
    from ftui.core.runs.rundir import RunPaths
    from ftui.train.build import (
        build_datasets,
        build_model,
        build_tokenizer,
        build_training_args,
        pick_collator,
    )
    from ftui.train.collator import TokenCounter
    from ftui.train.trainer import FtuiTrainer

    spec = ftui_spec(s, packing, dtype)
    if tune:
        tune(spec, None)
    run = s.work / f"ftui-run-{time.monotonic_ns()}"
    run.mkdir(parents=True)
    paths = RunPaths(run)
    args = build_training_args(spec, paths)
    if tune:
        tune(spec, args)
    tok, tok_dir = build_tokenizer(spec)
    train_ds, _, _, _ = build_datasets(spec, tok, tok_dir)  # cached after the first run
    model = build_model(spec, args)
    counter = TokenCounter()
    m = Measured()
    callback = _timed_callback(paths, EventWriter(run), counter, m)
    lever: dict[str, Any] = {}
    if logits_on_trained_only is not None:
        if "logits_on_trained_only" in inspect.signature(FtuiTrainer.__init__).parameters:
            lever["logits_on_trained_only"] = logits_on_trained_only
        else:
            m.note = "FtuiTrainer has no logits_on_trained_only here: the lever is not in"
    trainer = FtuiTrainer(
        model=model,
        args=args,
        train_dataset=train_ds,
        data_collator=Counting(pick_collator(spec, tok, counter, model), m),
        processing_class=tok,
        callbacks=[callback],
        **lever,
    )
    return timed_train(trainer, m, s.cuda)


def _timed_callback(paths: Any, events: Any, counter: Any, m: Measured):  # type: ignore[no-untyped-def]
    """ftui's FtuiCallback, with the time spent in its per-step hooks added to m."""
    from ftui.train.callbacks import FtuiCallback

    class Timed(FtuiCallback):
        def on_step_end(self, *a, **kw):  # type: ignore[no-untyped-def]
            t = time.perf_counter()
            try:
                return super().on_step_end(*a, **kw)
            finally:
                m.monitor_seconds += time.perf_counter() - t

        def on_log(self, *a, **kw):  # type: ignore[no-untyped-def]
            t = time.perf_counter()
            try:
                return super().on_log(*a, **kw)
            finally:
                m.monitor_seconds += time.perf_counter() - t

    return Timed(paths, events, counter, {}, None)
