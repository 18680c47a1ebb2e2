"""`ftui sweep`: --set values with commas become the trials (every combination), brackets keep
a list value whole, and a sweep's trials get an eval at their last step to be ranked by."""

from __future__ import annotations

from pathlib import Path

import pytest

from ftui.core.launch import queue, sweep
from ftui.core.spec import SpecError


def test_every_combination_is_one_trial() -> None:
    fixed, trials = sweep.expand(
        [
            "train.learning_rate=1e-4,2e-4",
            "method.lora.target_modules=[q_proj,v_proj],all-linear",
            "train.seed=3",
        ]
    )
    assert fixed == ["train.seed=3"]
    assert [t.label for t in trials] == [
        "learning_rate=1e-4 target_modules=[q_proj,v_proj]",
        "learning_rate=1e-4 target_modules=all-linear",
        "learning_rate=2e-4 target_modules=[q_proj,v_proj]",
        "learning_rate=2e-4 target_modules=all-linear",
    ]


def test_nothing_to_sweep_over_is_refused() -> None:
    with pytest.raises(SpecError, match="no --set KEY=A,B"):
        sweep.expand(["train.learning_rate=1e-4"])
    with pytest.raises(SpecError, match="an empty value"):
        sweep.expand(["train.learning_rate=1e-4,"])


def test_trials_are_queued_with_an_eval_at_the_end(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("FTUI_HOME", str(tmp_path))
    sweep_id, entries = sweep.queue_sweep(
        "demo", ["train.learning_rate=1e-4,5e-4", f"output.root={tmp_path / 'runs'}"], 4
    )
    assert [e.name for e in entries] == ["demo-t1", "demo-t2"]
    for entry, lr in zip(entries, (1e-4, 5e-4), strict=True):
        spec = entry.run_spec()
        assert (spec.train.learning_rate, spec.train.max_steps, spec.train.eval_steps) == (lr, 4, 4)
        assert spec.data.eval_split == "0.1" and entry.sweep == sweep_id
    # the ranking: finished trials by eval loss, lowest first; unfinished ones last
    queue.update(entries[0].id, eval_loss=2.5, state="completed")
    queue.update(entries[1].id, eval_loss=1.5, state="completed")
    assert [e.id for e in sweep.ranked(sweep_id)] == [entries[1].id, entries[0].id]


def test_a_trial_without_max_steps_cannot_be_ranked(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("FTUI_HOME", str(tmp_path))
    with pytest.raises(SpecError, match="--max-steps"):
        sweep.queue_sweep("demo", ["train.learning_rate=1e-4,5e-4"], None)
    assert queue.entries() == []
