"""How much GPU memory one rank needs for a spec, and how much disk the run will write.

The estimate adds up, per rank: weights (by dtype and quantization), trainable parameters,
optimizer states, gradients, activations at max_seq_len x batch (with or without gradient
checkpointing), the DDP gradient buckets or the FSDP/ZeRO sharding, and the CUDA context.

Assumptions (they match what the worker does; change both together):
- lora/qlora: base weights in the compute dtype (bf16/fp16) or 4/8-bit; adapters, their
  gradients and AdamW states in fp32 (peft's autocast_adapter_dtype); the step runs under
  bf16/fp16 autocast (Trainer bf16=True / fp16=True).
- full: bf16 (and auto) loads the weights in bf16 and trains them in bf16: bf16 gradients
  and AdamW states. fp16 keeps fp32 master weights under fp16 autocast, which also holds a
  16-bit copy of every linear weight during forward and backward. fp32 is fp32 throughout.
- Activation bytes per token per layer were measured by counting the tensors autograd saves
  (bench/memory_estimate.py --saved) for Qwen2- and Llama-shaped layers with sdpa attention.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ftui.core.model.facts import ModelFacts, lora_trainable_params, target_shapes

CUDA_CONTEXT = 512 * 1024**2  # what the CUDA context and kernels take outside the allocator
CPU_RUNTIME = 448 * 1024**2  # a CPU rank's resident Python, torch, transformers and peft
NF4_BYTES = 0.516  # 4 bits + blockwise absmax with double quantization
# Optimizer state bytes per trainable parameter, for fp32 parameters; torch keeps AdamW's two
# states in the parameter's dtype, so bf16 parameters halve them (8-bit states do not change).
OPTIMIZER_BYTES = {"adamw": 8.0, "sgd": 0.0, "adafactor": 0.2, "paged_adamw_8bit": 2.0}


@dataclass
class MemoryEstimate:
    """Bytes one rank needs at its peak; `total` is what to compare with a GPU's free memory."""

    weights: int
    trainable: int
    optimizer: int
    gradients: int
    activations: int
    overhead: int
    trainable_params: int
    total_params: int
    world_size: int
    strategy: str
    spec: Any = field(repr=False, default=None)
    facts: ModelFacts | None = field(repr=False, default=None)
    device: str = "cuda"  # or "cpu": what the overhead line is

    @property
    def total(self) -> int:
        return (
            self.weights
            + self.trainable
            + self.optimizer
            + self.gradients
            + self.activations
            + self.overhead
        )

    def breakdown(self) -> list[tuple[str, int]]:
        return [
            ("base weights (frozen, or bf16 copies)", self.weights),
            ("trainable weights", self.trainable),
            ("optimizer states", self.optimizer),
            ("gradients", self.gradients),
            ("activations", self.activations),
            (
                "CUDA context and buffers" if self.device == "cuda" else "Python and torch",
                self.overhead,
            ),
        ]

    def verdict(self, free_bytes: int) -> str:
        """fits (10% to spare for allocator fragmentation), tight, or will not fit."""
        if self.total <= 0.9 * free_bytes:
            return "fits"
        return "tight" if self.total <= free_bytes else "will not fit"

    def suggestion(
        self, free_bytes: int | None = None, gpus_available: int = 1, qlora: bool = True
    ) -> str | None:
        """The one change most likely to make it fit (the first, least disruptive one that
        does; else the one that saves most), or None when it already fits. `qlora`: whether
        bitsandbytes and CUDA are there (HardwareReport.bitsandbytes)."""
        if free_bytes is not None and self.verdict(free_bytes) == "fits":
            return None
        facts = self.facts
        if facts is None:  # only estimate_memory makes estimates, and it always sets facts
            return None
        options = _options(self.spec, self.world_size, gpus_available, qlora)
        best: tuple[int, str] | None = None
        for text, spec, ws in options:
            est = estimate_memory(spec, facts, ws, self.device)
            if free_bytes is not None and est.verdict(free_bytes) == "fits":
                return text
            if best is None or est.total < best[0]:
                best = (est.total, text)
        return best[1] if best else None


def _changed(spec: Any, **changes: Any) -> Any:
    """A deep copy of spec with dotted-path changes, e.g. train__per_device_batch_size=1."""
    out = spec.model_copy(deep=True)
    for key, value in changes.items():
        section, name = key.split("__")
        setattr(getattr(out, section), name, value)
    return out


def _options(spec: Any, world_size: int, gpus: int, qlora: bool) -> list[tuple[str, Any, int]]:
    """Single changes, the one that changes the run least first: (advice, spec, ranks)."""
    out: list[tuple[str, Any, int]] = []
    tr, m = spec.train, spec.method
    if not tr.gradient_checkpointing:
        s = _changed(spec, train__gradient_checkpointing=True)
        out.append(("enable train.gradient_checkpointing", s, world_size))
    if tr.per_device_batch_size > 1:
        accum = tr.effective_batch()  # the same rows per step, one at a time
        s = _changed(spec, train__per_device_batch_size=1, train__gradient_accumulation_steps=accum)
        advice = (
            "lower train.per_device_batch_size to 1 (with train.gradient_accumulation_steps="
            f"{accum} the effective batch stays the same)"
        )
        out.append((advice, s, world_size))
    if spec.launch.strategy == "ddp":
        s = _changed(spec, launch__strategy="fsdp")
        for n in (2, 4, 8, 16, 32, 64):
            if n <= gpus:
                out.append((f"use launch.strategy=fsdp across {n} GPUs", s, n))
    if m.kind == "full":
        out.append(("use method.kind=lora", _changed(spec, method__kind="lora"), world_size))
    elif m.kind == "lora" and qlora:
        s = _changed(spec, method__kind="qlora", model__quantization="4bit")
        out.append(("use method.kind=qlora (with model.quantization=4bit)", s, world_size))
    if spec.data.max_seq_len >= 512:
        half = spec.data.max_seq_len // 2
        s = _changed(spec, data__max_seq_len=half)
        out.append((f"lower data.max_seq_len to {half} (longer rows are truncated)", s, world_size))
    return out


def _dtype_bytes(spec: Any) -> int:
    """Bytes per activation element: 4 for fp32, else 2 (auto means bf16 on a GPU)."""
    return 4 if spec.model.dtype == "fp32" else 2


def _full_param_bytes(spec: Any) -> int:
    """Bytes per parameter of a full fine-tune: 2 in pure bf16, 4 with fp32 master weights."""
    return 2 if spec.model.dtype in ("auto", "bf16") else 4


def _optimizer_bytes(spec: Any, param_bytes: float) -> float:
    per = OPTIMIZER_BYTES[spec.train.optimizer]
    return per if spec.train.optimizer == "paged_adamw_8bit" else per * param_bytes / 4


def _layer_activation_bytes(spec: Any, facts: ModelFacts, act: int) -> float:
    """Bytes autograd keeps per token for one decoder layer without checkpointing."""
    h, i = facts.hidden_size, facts.intermediate_size or 4 * facts.hidden_size
    kv = facts.num_kv_heads * (facts.head_dim or h // max(1, facts.num_heads))
    lse = 4 * facts.num_heads  # sdpa's fp32 logsumexp
    if spec.method.kind == "full":
        if spec.model.dtype == "fp16":  # fp32 residual stream and norms; fp16 linear inputs
            return 30 * h + 8 * i + 4 * kv + lse
        return act / 2 * (20 * h + 8 * i + 4 * kv) + lse  # pure bf16 (measured) or fp32
    # RMSNorms keep their fp32 input (8h); sdpa keeps q, k, v, out; SwiGLU keeps 3 x i.
    per: float = 8 * h + act * (2 * h + 3 * i + 2 * kv) + lse
    lora = spec.method.lora
    per_input = 6.1 if lora.dropout > 0 else 2.1  # measured: mask + copies of the input
    for fan_in, _out, n in target_shapes(facts, lora.target_modules):
        per += n / max(1, facts.num_layers) * per_input * fan_in
    if spec.model.quantization != "none":
        per += act * (3 * h + i)  # bitsandbytes matmuls keep their (shared) inputs
    return per


def _quantizable_params(facts: ModelFacts) -> int:
    return sum(
        fi * fo * n
        for leaf, shapes in facts.linear_shapes.items()
        if leaf != facts.output_layer
        for fi, fo, n in shapes
    )


def _activations(spec: Any, facts: ModelFacts, act: int) -> float:
    tokens = spec.train.per_device_batch_size * spec.data.max_seq_len
    per_layer = _layer_activation_bytes(spec, facts, act)
    if spec.train.gradient_checkpointing:
        # each layer keeps only its input; backward recomputes one layer at a time
        residual = 4 if spec.method.kind == "full" and spec.model.dtype == "fp16" else act
        layers = facts.num_layers * residual * facts.hidden_size + per_layer
    else:
        layers = facts.num_layers * per_layer
    # The loss: bf16 logits, their fp32 copy and log-softmax, the same again in backward.
    logits = 12 * facts.vocab_size + 8 * facts.hidden_size
    return tokens * (layers + logits)


def estimate_memory(
    spec: Any, facts: ModelFacts, world_size: int = 1, device: str = "cuda"
) -> MemoryEstimate:
    """Peak bytes per rank for `spec` on a model described by `facts` across `world_size`
    ranks; on `device` "cpu" the overhead is the rank's runtime, not a CUDA context."""
    act = _dtype_bytes(spec)
    n = facts.num_params or 0
    trainable_params, total_params = lora_trainable_params(facts, spec)
    kind, strategy = spec.method.kind, spec.launch.strategy
    sharded = world_size > 1 and strategy in ("fsdp", "deepspeed")
    activations = _activations(spec, facts, act)
    weights: float
    trainable: float
    grads: float
    opt: float
    if kind == "full":
        pb = _full_param_bytes(spec)
        master = spec.model.dtype == "fp16"  # autocast's fp16 copies (FSDP gathers instead)
        weights = 2.0 * _quantizable_params(facts) if master and not sharded else 0.0
        trainable, grads, opt = pb * n, pb * n, _optimizer_bytes(spec, pb) * n
        if spec.train.gradient_accumulation_steps == 1:
            # grads grow as activations are freed: the peak is the larger of the two ends
            grads = max(pb * facts.vocab_size * facts.hidden_size, grads - activations)
    else:
        quant, linear = spec.model.quantization, _quantizable_params(facts)
        per_linear = {"none": act, "4bit": NF4_BYTES, "8bit": 1.0}[quant]
        weights = linear * per_linear + (n - linear) * act
        saved = sum(facts.module_params.get(m, 0) for m in spec.method.lora.modules_to_save)
        adapters = trainable_params - saved
        trainable = 4.0 * adapters + act * saved
        weights += 2.0 * adapters if act == 2 else 0.0  # autocast's bf16 copies of adapters
        grads = trainable
        opt = _optimizer_bytes(spec, 4) * adapters + _optimizer_bytes(spec, act) * saved
    overhead = float(CUDA_CONTEXT if device == "cuda" else CPU_RUNTIME)
    if world_size > 1 and strategy == "ddp":
        overhead += grads  # DDP's gradient buckets: a second copy of the gradients
    elif sharded:
        if strategy == "fsdp" or kind == "full":  # FSDP full shard / ZeRO-3 shard weights too
            weights /= world_size
            trainable /= world_size
            layer = (n - facts.vocab_size * facts.hidden_size) / max(1, facts.num_layers)
            overhead += 2 * layer * act  # the gathered layer and the prefetched next one
        grads /= world_size
        opt /= world_size
    return MemoryEstimate(
        weights=int(weights),
        trainable=int(trainable),
        optimizer=int(opt),
        gradients=int(grads),
        activations=int(activations),
        overhead=int(overhead),
        trainable_params=trainable_params,
        total_params=total_params,
        world_size=world_size,
        strategy=strategy if world_size > 1 else "single",
        spec=spec,
        facts=facts,
        device=device,
    )


# --- disk -----------------------------------------------------------------------------------


def estimate_disk(spec: Any, facts: ModelFacts) -> int:
    """Bytes the run writes: the kept checkpoints (one more while a new one is saved) and
    final/. A checkpoint holds the trainable weights, optimizer states and a little state."""
    trainable, _ = lora_trainable_params(facts, spec)
    pb = _full_param_bytes(spec) if spec.method.kind == "full" else 4
    weight_bytes = pb * trainable
    per_checkpoint = weight_bytes + _optimizer_bytes(spec, pb) * trainable + 16 * 2**20
    tr = spec.train
    kept = 0 if tr.save_steps is None else (tr.save_total_limit or 1_000) + 1
    if tr.max_steps is not None and tr.save_steps is not None:
        kept = min(kept, tr.max_steps // tr.save_steps + 1)
    final = weight_bytes + 32 * 2**20  # tokenizer, configs
    return int(kept * per_checkpoint + final)


@dataclass
class FitReport:
    """The Training step's line: what one rank needs against the free memory it can use."""

    estimate: MemoryEstimate
    free_bytes: int
    verdict: str
    suggestion: str | None
    where: str  # "least free of 2 GPU(s)", "CPU RAM shared by 2 processes"


def fit_on(spec: Any, facts: ModelFacts, report: Any) -> FitReport:
    """Estimate for the GPUs the spec chooses out of a HardwareReport (launch.gpus, default
    all), against the smallest free memory among them. On a CPU-only machine the local ranks
    share the available RAM: each gets its share."""
    from ftui.core.launch.torchrun import resolve_nproc

    chosen = [g for g in report.gpus if spec.launch.gpus is None or g.index in spec.launch.gpus]
    chosen = chosen or report.gpus  # indices this machine lacks: still a GPU machine
    nproc = resolve_nproc(spec, cuda_count=len(chosen))
    world = nproc * spec.launch.nnodes
    if not chosen:
        est = estimate_memory(spec, facts, world, device="cpu")
        free = int(report.ram_available) // nproc
        hint = est.suggestion(free, qlora=False)
        where = f"CPU RAM shared by {nproc} processes" if nproc > 1 else "CPU RAM"
        return FitReport(est, free, est.verdict(free), hint, where)
    est = estimate_memory(spec, facts, world)
    free = min(g.memory_free for g in chosen)
    hint = est.suggestion(free, gpus_available=len(report.gpus), qlora=bool(report.bitsandbytes))
    return FitReport(est, free, est.verdict(free), hint, f"least free of {len(chosen)} GPU(s)")
