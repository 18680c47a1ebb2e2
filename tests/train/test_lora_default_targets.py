"""The default LoRA targets train on every architecture: ftui's real worker (in-process, one
rank, the real Trainer and peft) takes two optimizer steps on tiny random gpt2, gpt_neox, phi3,
qwen2 and gemma models with `target_modules` left at its default, and the loss falls."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ftui.core.demo import build_tiny_model
from ftui.core.spec import spec_from_dict

FAMILIES = {
    "gpt2": {"c_attn", "c_proj", "c_fc"},
    "gpt_neox": {"query_key_value", "dense", "dense_h_to_4h", "dense_4h_to_h"},
    "phi3": {"o_proj", "qkv_proj", "gate_up_proj", "down_proj"},
    "qwen2": {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"},
    "gemma": {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"},
}


@pytest.mark.parametrize("family", list(FAMILIES))
def test_default_targets_train_two_steps(tmp_path: Path, family: str) -> None:
    from ftui.core.runs.events import EventWriter, read_events
    from ftui.core.runs.rundir import RunPaths
    from ftui.train.worker import train

    model = build_tiny_model(tmp_path / family, family=family, hidden_size=32)
    rows = tmp_path / "rows.jsonl"
    # Two rows and a batch of two: both steps see the same batch, so the second loss shows
    # whether the first update (through the adapters alone) moved the model.
    rows.write_text(
        json.dumps({"question": "What is the capital of France?", "answer": "Paris."})
        + "\n"
        + json.dumps({"question": "What is the capital of Italy?", "answer": "Rome."})
        + "\n"
    )
    spec = spec_from_dict(
        {
            "name": f"targets-{family}",
            "model": {"name_or_path": str(model)},
            "data": {
                "source": str(rows),
                "format": "prompt_completion",
                "columns": {"prompt": "question", "response": "answer"},
            },
            "method": {"kind": "lora", "lora": {"dropout": 0.0}},  # target_modules: default
            "train": {
                "max_steps": 2,
                "per_device_batch_size": 2,
                "learning_rate": 0.02,
                "lr_scheduler": "constant",
                "logging_steps": 1,
                "save_steps": None,
            },
        }
    )
    assert spec.method.lora.target_modules == "all-linear"
    run = tmp_path / "run"
    run.mkdir()
    outcome = train(spec, RunPaths(run), EventWriter(run), resume=False)
    assert outcome == {"status": "completed", "step": 2}
    losses = [e["loss"] for e in read_events(run) if e["type"] == "metrics"]
    assert len(losses) == 2 and losses[1] < losses[0], losses
    adapter = json.loads((run / "final" / "adapter_config.json").read_text())
    assert {name.rsplit(".", 1)[-1] for name in adapter["target_modules"]} == FAMILIES[family]
