"""A real `torchrun --standalone --nproc-per-node=2` run of the demo (CPU, gloo). No mocks."""

from __future__ import annotations

import json
import stat

from ftui.core.runs.events import read_events


def test_demo_run_learns_and_writes_the_run_dir_contract(demo_run):
    events = read_events(demo_run)
    kinds = [e["type"] for e in events]
    statuses = [e["status"] for e in events if e["type"] == "status"]
    assert statuses[0] == "starting" and statuses[-1] == "completed"
    plan = next(e for e in events if e["type"] == "plan")
    assert plan["world_size"] == 2 and plan["train_rows"] == 100
    losses = [e["loss"] for e in events if e["type"] == "metrics"]
    assert len(losses) >= 10
    assert losses[-1] < losses[0] / 5, losses  # it learns, not just wiggles
    assert all(e["tokens_per_s"] > 0 for e in events if e["type"] == "metrics")
    assert "checkpoint" in kinds
    ckpt = [e for e in events if e["type"] == "checkpoint"][-1]
    kept = sorted(p.name for p in (demo_run / "checkpoints").iterdir())
    assert len(kept) == 2 and f"checkpoint-{ckpt['step']}" in kept, kept  # save_total_limit 2
    marker = json.loads(
        (demo_run / "checkpoints" / f"checkpoint-{ckpt['step']}" / "COMPLETE").read_text()
    )
    assert marker["step"] == ckpt["step"] and marker["files"]
    final = demo_run / "final"
    assert (final / "adapter_model.safetensors").is_file()
    assert (final / "adapter_config.json").is_file()
    assert (final / "tokenizer.json").is_file()
    assert not [p for p in final.iterdir() if p.suffix in (".bin", ".pt", ".pth", ".pkl")]
    assert not list(demo_run.rglob("*model*.bin")), "weights are safetensors only"
    assert stat.S_IMODE(demo_run.stat().st_mode) == 0o700
    for name in ("config.yaml", "command.txt", "run.json", "logs/rank0.log", "logs/rank1.log"):
        assert (demo_run / name).is_file(), name
    run = json.loads((demo_run / "run.json").read_text())
    assert (
        run["pid"]
        and run["pid_start_time"]
        and run["argv"][1:4] == ["-m", "torch.distributed.run", "--standalone"]
    )
    assert "--nproc-per-node=2" in run["argv"]
    assert "torch.distributed.run" in (demo_run / "command.txt").read_text()


def test_sample_events_show_the_model_answering(demo_run):
    samples = [e for e in read_events(demo_run) if e["type"] == "sample"]
    assert samples and samples[0]["output"] == "The capital of France is Paris."
