"""The eval card on real torchrun runs of the demo (CPU, gloo): the step-0 eval, every
checkpoint's eval loss, the best one as the default weights of chat and export, and the
forgetting meter measured on the demo's memorising run."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from ftui.core.runs.checkpoints import best_checkpoint, recorded_eval_loss
from ftui.core.runs.events import read_events
from ftui.core.runs.forgetting import read_forgetting, summary_line
from tests.conftest import _logs, run_ftui, wait_for_status

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def eval_run(tmp_path_factory: pytest.TempPathFactory, demo_model: Path) -> Path:
    """12 steps of the demo with a fifth of its rows held out, a checkpoint every 4 steps."""
    from ftui.core.launch.spawn import launch
    from ftui.core.presets import resolve_spec

    root = tmp_path_factory.mktemp("eval-runs")
    overrides = ["data.eval_split=0.2", "train.max_steps=12", "train.save_steps=4"]
    run_dir = launch(resolve_spec("demo", [f"output.root={root}", *overrides]))
    status = wait_for_status(run_dir)
    assert status["status"] == "completed", (status, _logs(run_dir))
    return run_dir


def test_eval_runs_before_the_first_step_at_each_checkpoint_and_at_the_end(eval_run):
    events = read_events(eval_run)
    plan = next(e for e in events if e["type"] == "plan")
    assert plan["eval_rows"] == 20 and plan["train_rows"] == 80
    assert plan["eval_note"] == "eval split 0.2: 20 rows"
    evals = [e for e in events if e["type"] == "eval"]
    assert [e["step"] for e in evals] == [0, 4, 8, 12]
    first_metrics = next(i for i, e in enumerate(events) if e["type"] == "metrics")
    assert events.index(evals[0]) < first_metrics  # the base model's eval loss: step 0
    for e in evals:
        assert e["perplexity"] == pytest.approx(math.exp(e["eval_loss"]))
    assert evals[-1]["eval_loss"] < evals[0]["eval_loss"]
    by_step = {e["step"]: e["eval_loss"] for e in evals}
    for ckpt in (eval_run / "checkpoints").iterdir():
        step = int(ckpt.name.split("-")[1])
        assert recorded_eval_loss(ckpt) == pytest.approx(by_step[step])
        assert "eval.json" in json.loads((ckpt / "COMPLETE").read_text())["files"]
    assert json.loads((eval_run / "final" / "eval.json").read_text())["step"] == 12


def test_the_best_checkpoint_is_the_default_of_chat_and_export(eval_run, tmp_path):
    from ftui.core.playground.export import export_run
    from ftui.train.callbacks import mark_complete

    final = eval_run / "final"
    assert best_checkpoint(eval_run) == final  # final ties checkpoint-12 and is the later one
    # final/ evaluated worse than checkpoint-12 (as when a run overfits at the end)
    record = json.loads((final / "eval.json").read_text())
    (final / "eval.json").write_text(json.dumps({**record, "eval_loss": 99.0}))
    mark_complete(final, 12)  # the edited record is part of a whole final/ again
    best = eval_run / "checkpoints" / "checkpoint-12"
    assert best_checkpoint(eval_run) == best
    prompt = ["--prompt", "What is the capital of France?"]
    chat = run_ftui("chat", str(eval_run), *prompt)
    assert chat.returncode == 0, chat.stderr
    assert "weights: checkpoint-12/" in chat.stderr
    chat_final = run_ftui("chat", str(eval_run), "--checkpoint", "final", *prompt)
    assert "weights: final/" in chat_final.stderr, chat_final.stderr
    out = tmp_path / "export"
    export = run_ftui("export", str(eval_run), "--out", str(out))
    assert export.returncode == 0, export.stderr
    exported = (out / "adapter_model.safetensors").read_bytes()
    assert exported == (best / "adapter_model.safetensors").read_bytes()
    card = (out / "README.md").read_text()
    assert "weights from `checkpoint-12/`" in card and "best: checkpoint-12" in card
    export_run(eval_run, tmp_path / "final-export", checkpoint="final")
    final_bytes = (tmp_path / "final-export" / "adapter_model.safetensors").read_bytes()
    assert final_bytes == (final / "adapter_model.safetensors").read_bytes()
    runs = run_ftui("runs", "--root", str(eval_run.parent))
    assert "best step 12" in runs.stdout, runs.stdout


def test_forgetting_meter_general_text_loss_rises_after_the_demo_memorises(demo, tmp_path):
    from ftui.core.playground.export import export_run

    reading = read_forgetting(demo)
    assert reading is not None and reading.tokens > 100
    assert reading.tuned_loss > reading.base_loss, reading  # measured, not a fixed figure
    event = next(e for e in read_events(demo) if e["type"] == "forgetting")
    assert event["base_loss"] == pytest.approx(reading.base_loss, abs=1e-4)
    export_run(demo, tmp_path / "out")
    card = (tmp_path / "out" / "README.md").read_text()
    assert summary_line(reading) in card and "public domain" in card
