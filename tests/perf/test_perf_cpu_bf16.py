"""model.dtype on the CPU: bf16 trains under bf16 autocast, auto follows the CPU's flags
(`ftui.core.hardware.CPU_BF16_FLAGS`), and the loss stays near fp32's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ftui.core.hardware import cpu_flags, cpu_has_bf16, training_dtype

from .perf_helpers import WorkerParts, make_spec

# bf16 keeps 8 bits of mantissa (relative rounding 2^-9 ~ 0.2% per op); a short run's loss, a
# mean over hundreds of tokens, stays within 1% of fp32's. A wrong precision path (fp16
# overflow, logits left in bf16 for the loss, an update rounded away) moves it far more.
BF16_LOSS_TOLERANCE = 0.01


def test_cpu_dtype_rules() -> None:
    assert training_dtype("bf16", cuda=False, bf16_supported=False) == "bf16"
    assert training_dtype("auto", cuda=False, bf16_supported=False, cpu_bf16=True) == "bf16"
    assert training_dtype("auto", cuda=False, bf16_supported=False, cpu_bf16=False) == "fp32"
    assert training_dtype("fp16", cuda=False, bf16_supported=False, cpu_bf16=True) == "fp32"
    assert training_dtype("fp32", cuda=False, bf16_supported=False, cpu_bf16=True) == "fp32"
    # CUDA is unchanged: auto is bf16 where the GPUs have it, else fp16
    assert training_dtype("auto", cuda=True, bf16_supported=True, cpu_bf16=False) == "bf16"
    assert training_dtype("auto", cuda=True, bf16_supported=False, cpu_bf16=True) == "fp16"


def test_the_wizard_view_follows_where_the_run_trains() -> None:
    """A CUDA machine trains on its GPUs: their bf16 decides, not the host CPU's flags."""
    from ftui.core.hardware import GpuInfo, HardwareReport, bf16_trains_fast, training_dtype_on

    cpu = HardwareReport(backend="cpu", cpu_bf16=True)
    assert bf16_trains_fast(cpu) and training_dtype_on("auto", cpu) == "bf16"
    plain_cpu = HardwareReport(backend="cpu")
    assert not bf16_trains_fast(plain_cpu) and training_dtype_on("auto", plain_cpu) == "fp32"
    assert training_dtype_on("bf16", plain_cpu) == "bf16"
    v100 = GpuInfo(0, "Tesla V100", "nvidia", 16 << 30, 0, 16 << 30)
    gpu = HardwareReport(backend="nvml", gpus=[v100], bf16_supported=False, cpu_bf16=True)
    assert not bf16_trains_fast(gpu) and training_dtype_on("auto", gpu) == "fp16"


def test_cpu_bf16_flag_rule(tmp_path: Path) -> None:
    """The rule reads /proc/cpuinfo's flags: deterministic for a machine, no timing at launch."""
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_bf16\n\nflags : x\n")
    assert "avx512_bf16" in cpu_flags(str(info)) and cpu_has_bf16(cpu_flags(str(info)))
    assert cpu_has_bf16({"amx_bf16", "avx2"})
    assert not cpu_has_bf16({"avx2", "avx512f"})
    assert cpu_flags(str(tmp_path / "missing")) == set()
    if Path("/proc/cpuinfo").is_file():
        assert cpu_flags()  # this machine's flags are read


def train_bf16(spec: Any, out: Path) -> dict[str, Any]:
    """A few steps through ftui's builders: losses, the training arguments, and what the
    lm_head computed in (weight dtype, output dtype, autocast on)."""
    import torch

    w = WorkerParts(spec, out)
    seen: set[tuple[str, str, bool]] = set()
    head = w.model.get_output_embeddings()
    head.register_forward_hook(
        lambda m, a, o: seen.add((str(a[0].dtype), str(o.dtype), torch.is_autocast_enabled("cpu")))
    )
    trainer = w.train(w.collator())
    losses, args = w.losses, w.args
    dtypes = {str(p.dtype) for p in trainer.model.parameters() if p.requires_grad}
    frozen = {str(p.dtype) for p in trainer.model.parameters() if not p.requires_grad}
    return {"losses": losses, "args": args, "head": seen, "trained": dtypes, "frozen": frozen}


@pytest.mark.parametrize("kind", ["lora", "full"])
def test_bf16_on_the_cpu_trains_under_autocast_near_fp32(
    tiny_model: Path, rows_file: Path, tmp_path: Path, kind: str
) -> None:
    spec = make_spec(tiny_model, rows_file, max_steps=3, learning_rate=1e-3)
    spec.method.kind = kind
    spec.model.dtype = "bf16"
    bf16 = train_bf16(spec, tmp_path / "bf16")
    spec.model.dtype = "fp32"
    fp32 = train_bf16(spec, tmp_path / "fp32")
    assert bf16["args"].bf16 and bf16["args"].use_cpu and not fp32["args"].bf16
    assert {(out, on) for _, out, on in bf16["head"]} == {("torch.bfloat16", True)}
    assert fp32["head"] == {("torch.float32", "torch.float32", False)}
    # what trains stays fp32 (LoRA: peft's adapter dtype; full: fp32 master weights on the
    # CPU); a LoRA run's frozen base is held in bf16, as on a GPU
    assert bf16["trained"] == {"torch.float32"}
    if kind == "lora":
        assert bf16["frozen"] == {"torch.bfloat16"}
    for step, (x, y) in enumerate(zip(bf16["losses"], fp32["losses"], strict=True), 1):
        assert abs(x - y) <= BF16_LOSS_TOLERANCE * abs(y), f"step {step}: {x} vs {y}"
    assert bf16["losses"] != fp32["losses"]  # really another precision


def test_the_worker_records_the_resolved_dtype(
    tiny_model: Path, rows_file: Path, tmp_path: Path
) -> None:
    """auto resolves by this machine's CPU flags, and the plan event says what it chose."""
    from ftui.core.runs.events import EventWriter, read_events
    from ftui.core.runs.rundir import RunPaths
    from ftui.train.worker import train

    spec = make_spec(tiny_model, rows_file, max_steps=1)
    spec.model.dtype = "auto"
    run = tmp_path / "run"
    run.mkdir()
    assert train(spec, RunPaths(run), EventWriter(run), resume=False)["status"] == "completed"
    plan = next(e for e in read_events(run) if e["type"] == "plan")
    assert plan["dtype"] == ("bf16" if cpu_has_bf16() else "fp32")
