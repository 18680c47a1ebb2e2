"""Memory estimate vs reality, per model shape.

    python bench/memory_estimate.py            # CUDA: estimate vs torch.cuda.max_memory_allocated
    python bench/memory_estimate.py --saved    # any machine: activation bytes autograd keeps
    python bench/memory_estimate.py --cpu-peak # any machine: whole-step peak on the CPU

GPU mode builds random-init models of real shapes (Qwen2.5-0.5B, Llama-3.2-1B, Qwen2.5-1.5B
configs written here, nothing downloaded), runs a few LoRA and full training steps the way the
worker does (bf16 autocast, fused AdamW, peft adapters in fp32) and prints the estimate (minus
the CUDA context, which the allocator does not see) next to the measured peak, with the ratio.
Without CUDA it says so and exits 0.

--saved counts the bytes of every tensor autograd saves for backward (deduplicated by storage)
for 1 and 3 decoder layers of the same shapes on the CPU, and compares the per-layer, per-token
difference with the estimator's coefficients.

--cpu-peak runs the Qwen2.5-0.5B cases for real on the CPU (bf16 autocast) and takes the
step's peak from the profiler's allocation events (live bytes before the step + the highest
running sum of allocations and frees during it), next to the estimate without the CUDA
context. CPU kernels are not CUDA kernels (the loss, for one, peaks lower), so this checks
the bookkeeping (weights, adapters, optimizer states, gradients, activations, loss), not the
GPU number. Slow: about two minutes per case on two cores.
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gpu_shapes import GPU_SHAPES  # noqa: E402

from ftui.core.check.memory import (  # noqa: E402
    CUDA_CONTEXT,
    _layer_activation_bytes,
    estimate_memory,
)
from ftui.core.model.facts import inspect_model, lora_trainable_params  # noqa: E402
from ftui.core.spec import spec_from_dict  # noqa: E402

GiB = 1024**3
SHAPES = {
    # the published shapes, shared with bench/throughput.py's GPU mode
    "Qwen2.5-0.5B": {"family": "qwen2", **GPU_SHAPES["qwen2.5-0.5b"]["config"]},
    "Llama-3.2-1B": {"family": "llama", **GPU_SHAPES["llama-3.2-1b"]["config"]},
    "Qwen2.5-1.5B": dict(
        family="qwen2",
        hidden_size=1536,
        intermediate_size=8960,
        num_hidden_layers=28,
        num_attention_heads=12,
        num_key_value_heads=2,
        vocab_size=151936,
        tie_word_embeddings=True,
    ),
}
CASES = {
    "lora q,v  b4 s512": dict(method={"kind": "lora"}, train={"per_device_batch_size": 4}),
    "lora all  b4 s1024 gc": dict(
        method={"kind": "lora", "lora": {"target_modules": "all-linear", "r": 16}},
        data={"max_seq_len": 1024},
        train={"per_device_batch_size": 4, "gradient_checkpointing": True},
    ),
    "full      b2 s512 gc": dict(
        method={"kind": "full"},
        train={"per_device_batch_size": 2, "gradient_checkpointing": True},
    ),
}


def make_config(shape: dict, layers: int | None = None, vocab: int | None = None):
    from transformers import LlamaConfig, Qwen2Config

    dims = {k: v for k, v in shape.items() if k != "family"}
    if layers is not None:
        dims["num_hidden_layers"] = layers
    if vocab is not None:
        dims["vocab_size"] = vocab
    cls = Qwen2Config if shape["family"] == "qwen2" else LlamaConfig
    return cls(max_position_embeddings=4096, **dims)


def make_spec(case: dict):
    data = {"data": {"max_seq_len": 512}}
    for section, values in case.items():
        data.setdefault(section, {}).update(values)
    return spec_from_dict(data)


def build(spec, config, device: str):
    """The model as the worker builds it: bf16 weights (peft keeps adapters in fp32); fp32
    master weights only for fp16 or fp32 full fine-tuning."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    full = spec.method.kind == "full"
    dtype = torch.float32 if spec.model.dtype in ("fp16", "fp32") else torch.bfloat16
    with torch.device(device):  # initialised where it runs: an 8B init on the CPU takes minutes
        model = AutoModelForCausalLM.from_config(config, dtype=dtype, attn_implementation="sdpa")
    if not full:
        lo = spec.method.lora
        model = get_peft_model(
            model,
            LoraConfig(
                r=lo.r,
                lora_alpha=lo.alpha,
                lora_dropout=lo.dropout,
                target_modules=lo.target_modules,
            ),
        )
    if spec.train.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        if not full:
            model.enable_input_require_grads()
    model.config.use_cache = False
    model.train()
    return model


def gpu_run(shape_name: str, case_name: str, steps: int = 3) -> tuple[float, float]:
    import torch

    shape, case = SHAPES[shape_name], CASES[case_name]
    spec = make_spec(case)
    config = make_config(shape)
    with tempfile.TemporaryDirectory() as d:
        config.save_pretrained(d)
        facts = inspect_model(d)
    est = estimate_memory(spec, facts, 1)
    model = build(spec, config, "cuda")
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-5, fused=True)
    tokens = (spec.train.per_device_batch_size, spec.data.max_seq_len)
    for step in range(steps):
        if step == 1:  # from the second step on the optimizer states exist, as in a real run
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        ids = torch.randint(0, config.vocab_size, tokens, device="cuda")
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
    torch.cuda.synchronize()
    measured = torch.cuda.max_memory_allocated()
    del model, opt, params, loss
    gc.collect()
    torch.cuda.empty_cache()
    return (est.total - CUDA_CONTEXT) / GiB, measured / GiB


def saved_bytes(spec, config) -> int:
    import torch

    model = build(spec, config, "cpu")
    params = {p.untyped_storage().data_ptr() for p in model.parameters()}
    seen: dict[int, int] = {}

    def pack(t):
        storage = t.untyped_storage()
        if storage.data_ptr() not in params:
            seen[storage.data_ptr()] = storage.nbytes()
        return t

    ids = torch.randint(0, config.vocab_size, (1, spec.data.max_seq_len))
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            model(input_ids=ids, labels=ids)
    return sum(seen.values())


def saved_report() -> None:
    print(f"{'shape':14} {'case':24} {'estimate B/tok/layer':>21} {'measured':>9} {'ratio':>6}")
    for shape_name in ("Qwen2.5-0.5B", "Llama-3.2-1B"):
        shape = SHAPES[shape_name]
        for case_name, case in CASES.items():
            spec = make_spec({**case, "data": {"max_seq_len": 128}})
            if spec.train.gradient_checkpointing:
                spec.train.gradient_checkpointing = False
            one, three = (saved_bytes(spec, make_config(shape, n, vocab=512)) for n in (1, 3))
            with tempfile.TemporaryDirectory() as d:
                make_config(shape, 2, vocab=512).save_pretrained(d)
                facts = inspect_model(d)
            # autocast's bf16 weight copies are saved too; the estimate counts them as weights
            if spec.method.kind == "full":
                copies = 0.0  # bf16 weights: autocast makes no copies
            else:
                copies = 2 * lora_trainable_params(facts, spec)[0] / facts.num_layers
            measured = ((three - one) / 2 - copies) / 128
            est = _layer_activation_bytes(spec, facts, 2)
            print(
                f"{shape_name:14} {case_name:24} {est:21.0f} {measured:9.0f} {est / measured:6.3f}",
                flush=True,
            )


def cpu_peak_run(shape_name: str, case: dict) -> tuple[float, float]:
    import torch
    from torch.profiler import ProfilerActivity, profile

    spec = make_spec(case)
    config = make_config(SHAPES[shape_name])
    with tempfile.TemporaryDirectory() as d:
        config.save_pretrained(d)
        facts = inspect_model(d)
    est = estimate_memory(spec, facts, 1)
    torch.manual_seed(0)
    model = build(spec, config, "cpu")
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5)
    tokens = (spec.train.per_device_batch_size, spec.data.max_seq_len)

    def step() -> None:
        ids = torch.randint(0, config.vocab_size, tokens)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    step()  # the optimizer states exist from here on, as in a real run
    state = [v for st in opt.state.values() for v in st.values() if torch.is_tensor(v)]
    live = {t.untyped_storage().data_ptr(): t.untyped_storage().nbytes() for t in state}
    for t in list(model.parameters()) + list(model.buffers()):
        live[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        step()
    deltas = sorted(
        (
            e.time_range.start,
            e.cpu_memory_usage if e.name == "[memory]" else e.self_cpu_memory_usage,
        )
        for e in prof.events()
    )
    running = peak = 0
    for _, delta in deltas:
        running += delta
        peak = max(peak, running)
    return (est.total - CUDA_CONTEXT) / GiB, (sum(live.values()) + peak) / GiB


def cpu_peak_report() -> None:
    print(f"{'shape':14} {'case':24} {'estimate GiB':>12} {'CPU peak GiB':>12} {'ratio':>6}")
    for case_name, case in CASES.items():
        small = {**case, "data": {"max_seq_len": 512}}
        small["train"] = {**case.get("train", {}), "per_device_batch_size": 1}
        est, measured = cpu_peak_run("Qwen2.5-0.5B", small)
        words = case_name.split()
        kind = words[0] + (f" {words[1]}" if words[0] == "lora" else "")
        label = f"{kind} b1 s512" + (" gc" if words[-1] == "gc" else "")
        print(f"{'Qwen2.5-0.5B':14} {label:24} {est:12.3f} {measured:12.3f} {est / measured:6.3f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saved", action="store_true", help="CPU check of activation bytes")
    parser.add_argument("--cpu-peak", action="store_true", help="CPU check of the whole step")
    args = parser.parse_args()
    if args.saved:
        saved_report()
        return 0
    if args.cpu_peak:
        cpu_peak_report()
        return 0
    import torch

    if not torch.cuda.is_available():
        print("memory_estimate: needs a CUDA GPU to measure peak memory; none here.")
        print("(`--saved` checks the activation coefficients on the CPU.)")
        return 0
    print(f"device: {torch.cuda.get_device_name(0)}, torch {torch.__version__}")
    print(f"{'shape':14} {'case':24} {'estimate GiB':>12} {'measured GiB':>12} {'ratio':>6}")
    for shape_name in SHAPES:
        for case_name in CASES:
            est, measured = gpu_run(shape_name, case_name)
            print(
                f"{shape_name:14} {case_name:24} {est:12.2f} {measured:12.2f} "
                f"{est / measured:6.3f}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
