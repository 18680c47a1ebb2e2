"""The best checkpoint by eval loss: chosen from each checkpoint's eval.json (and final/'s), the
default weights of chat and export, and never rotated away."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fake_runs import make_checkpoint, make_run  # noqa: E402

from ftui.core.playground.inference import InferenceError, run_weights_dir
from ftui.core.runs.checkpoints import best_checkpoint, parse_checkpoint_choice
from ftui.core.runs.eval_card import best_marker, eval_card_lines
from ftui.train.callbacks import mark_complete, rotate_checkpoints, write_eval_record


def run_with(tmp_path: Path, losses: dict[int, float], final: float | None) -> Path:
    run = make_run(tmp_path)
    for step, loss in losses.items():
        ckpt = make_checkpoint(run, step, complete=False)
        write_eval_record(ckpt, step, loss)
        mark_complete(ckpt, step)
    (run / "final").mkdir()
    (run / "final" / "adapter_config.json").write_text("{}")
    if final is not None:
        write_eval_record(run / "final", 40, final)
    mark_complete(run / "final", 40)
    return run


def test_the_lowest_eval_loss_is_best_and_the_default_weights(tmp_path):
    run = run_with(tmp_path, {10: 2.0, 20: 1.5, 30: 1.7}, final=1.8)
    best = run / "checkpoints" / "checkpoint-20"
    assert best_checkpoint(run) == best
    assert run_weights_dir(run) == best and run_weights_dir(run, "best") == best
    assert run_weights_dir(run, "final") == run / "final"
    assert run_weights_dir(run, 30) == run / "checkpoints" / "checkpoint-30"
    assert best_marker(run) == "step 20"
    assert "best: checkpoint-20 (eval loss 1.5)" in "\n".join(eval_card_lines(run))


def test_a_tie_goes_to_the_later_weights_and_final_can_be_best(tmp_path):
    run = run_with(tmp_path, {10: 2.0, 20: 1.5}, final=1.5)
    assert best_checkpoint(run) == run / "final" and best_marker(run) == "final"


def test_incomplete_checkpoints_and_nan_losses_never_win(tmp_path):
    run = run_with(tmp_path, {10: 2.0}, final=None)
    half = make_checkpoint(run, 20, complete=False)  # being written: no COMPLETE marker
    write_eval_record(half, 20, 0.1)
    nan = make_checkpoint(run, 30, complete=False)
    (nan / "eval.json").write_text(json.dumps({"step": 30, "eval_loss": float("nan")}))
    mark_complete(nan, 30)
    assert best_checkpoint(run) == run / "checkpoints" / "checkpoint-10"


def test_without_eval_losses_final_is_the_default_and_best_says_why(tmp_path):
    run = run_with(tmp_path, {}, final=None)
    make_checkpoint(run, 10)
    assert best_checkpoint(run) is None and best_marker(run) == ""
    assert run_weights_dir(run) == run / "final"
    with pytest.raises(InferenceError, match="no checkpoint has an eval loss.*--checkpoint final"):
        run_weights_dir(run, "best")


def test_rotation_keeps_the_best_checkpoint(tmp_path):
    run = run_with(tmp_path, {10: 1.0, 20: 1.5, 30: 1.7, 40: 1.6}, final=None)
    rotate_checkpoints(run / "checkpoints", limit=2)
    kept = sorted(p.name for p in (run / "checkpoints").iterdir())
    assert kept == ["checkpoint-10", "checkpoint-30", "checkpoint-40"]


def test_checkpoint_choice_parses_best_final_and_steps():
    assert [parse_checkpoint_choice(t) for t in ("best", "Final", "12")] == ["best", "final", 12]
    with pytest.raises(ValueError, match="expected best, final or a step number, got 'last'"):
        parse_checkpoint_choice("last")
