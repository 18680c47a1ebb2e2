"""FSDP through the Trainer, for real. GPU only: accelerate enables FSDP only on GPUs (on a
CPU the Trainer would silently run DDP, which preflight refuses), so there is no CPU/gloo
variant of this test."""

from __future__ import annotations

import pytest
from conftest import wait_for_status

from ftui.core.runs.events import read_events


def _cuda_count() -> int:
    try:
        import torch
    except ImportError:
        return 0
    return torch.cuda.device_count() if torch.cuda.is_available() else 0


pytestmark = [
    pytest.mark.gpu,
    pytest.mark.slow,
    pytest.mark.skipif(_cuda_count() < 2, reason="FSDP needs 2 CUDA GPUs (accelerate: GPU only)"),
]


@pytest.mark.parametrize("kind", ["lora", "full"])
def test_fsdp_demo_run_completes_with_a_gathered_final(tmp_path, demo_model, kind):
    from ftui.core.launch.spawn import launch
    from ftui.core.presets import resolve_spec

    overrides = [
        f"output.root={tmp_path}",
        "launch.strategy=fsdp",
        "launch.nproc_per_node=2",
        "launch.gpus=[0, 1]",
        "train.save_steps=10",
        f"method.kind={kind}",
    ]
    if kind == "full":
        overrides.append("method.lora.modules_to_save=[]")
    run_dir = launch(resolve_spec("demo", overrides))
    status = wait_for_status(run_dir, timeout=600)
    assert status["status"] == "completed", status
    plan = next(e for e in read_events(run_dir) if e["type"] == "plan")
    assert plan["world_size"] == 2
    final = run_dir / "final"
    weights = "adapter_model.safetensors" if kind == "lora" else "model.safetensors"
    assert (final / weights).is_file(), sorted(p.name for p in final.iterdir())
    assert not list(final.glob("*fsdp*")), "final/ must be gathered, not FSDP shards"
