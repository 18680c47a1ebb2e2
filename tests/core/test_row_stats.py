"""One row-statistics type: `ftui preview` and the run's `plan` event count the same rows the
same way. Before, the preview counted the tokens of rows the worker drops (nothing left to
train after the cut), so its token count was larger than the run's plan.train_tokens."""

from __future__ import annotations

import json
from pathlib import Path

from ftui.core.data.row_stats import RowStats
from ftui.core.presets import resolve_spec


def _rows(path: Path) -> Path:
    """QA rows as the demo reads them, plus the rows that make the counts differ: a prompt so
    long that the cut leaves no answer (dropped), one cut inside its answer (kept), one with
    an empty answer (only the end-of-turn token is trained)."""
    rows = [
        {"question": f"What is {i} plus {i}?", "answer": f"{i} plus {i} is {2 * i}."}
        for i in range(12)
    ]
    rows.append({"question": "Tell me about France. " * 30, "answer": "Paris."})
    rows.append({"question": "Why?", "answer": "Because the capital of France is Paris. " * 10})
    rows.append({"question": "Say nothing.", "answer": ""})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_preview_and_plan_agree_on_the_same_data(demo_model: Path, tmp_path: Path) -> None:
    from ftui.commands.preview import compute
    from ftui.train.build import build_datasets, build_tokenizer
    from ftui.train.worker import data_plan

    data = _rows(tmp_path / "qa.jsonl")
    spec = resolve_spec(
        "demo", [f"data.source={data}", "data.max_seq_len=64", f"output.root={tmp_path}"]
    )
    result = compute(spec, rows=3, sample=1000)
    assert not isinstance(result, list), result
    summary, lens = result
    tokenizer, tokenizer_dir = build_tokenizer(spec)
    _train, _eval, stats, _fp = build_datasets(spec, tokenizer, tokenizer_dir)
    plan = data_plan(stats)

    shown = summary["stats"]
    assert summary["read_rows"] == shown["rows"] == stats.rows == 15  # the preview read all
    assert shown["tokens"] == plan["train_tokens"]
    assert shown["trained_tokens"] == plan["trained_tokens"]
    assert shown["kept"] == plan["train_rows"] == 14
    assert shown["no_trained"] == plan["skipped_rows"] == 1
    assert shown["truncated"] == plan["truncated_rows"] == 2
    assert shown["empty_response"] == 1 and shown["examples"]["no_trained"] == 12
    assert lens.stats == stats  # every count, length and example, not only the plan's
    # the tokens counted are the ones the worker keeps to train on
    assert stats.tokens == sum(len(ids) for ids in _train["input_ids"])


def test_a_dropped_row_counts_in_rows_but_not_in_tokens() -> None:
    stats = RowStats(max_seq_len=8)
    stats.add(0, length=6, tokens=6, trained=2)
    stats.add(1, length=20, tokens=8, trained=0)  # cut before its answer: dropped
    stats.add(2, length=10, tokens=8, trained=3)  # cut inside its answer: kept
    assert (stats.rows, stats.kept, stats.no_trained, stats.truncated) == (3, 2, 1, 2)
    assert (stats.tokens, stats.trained_tokens) == (14, 5)
    assert stats.lengths == [6, 20, 10]  # before the cut, for the histogram
    assert stats.examples == {"no_trained": 1, "truncated": 1}
    assert stats.trained_share == 5 / 14 and stats.no_trained_share == 1 / 3
