"""The lm-eval record's wording on the eval card (ftui.core.runs.benchmark), torch-free."""

from __future__ import annotations

import json
from pathlib import Path

from fake_runs import make_run

from ftui.core.runs.benchmark import benchmark_lines, read_benchmark, scores
from ftui.core.runs.eval_card import eval_card_lines
from ftui.core.runs.rundir import RunPaths


def test_scores_keep_the_metrics_and_drop_stderr_labels_and_non_numbers() -> None:
    # lm-eval's results[task] as simple_evaluate returns it (bootstrap_iters=0: stderr N/A)
    result = {
        "name": "arc_easy",
        "alias": "arc_easy",
        "sample_len": 50,
        "acc,none": 0.42,
        "acc_stderr,none": "N/A",
        "acc_norm,none": 0.46,
        "acc_norm_stderr,none": 0.07,
        "exact_match,strict-match": 0.1,
        "f1,none": float("nan"),
        "flag,none": True,
    }
    assert scores(result) == {"acc": 0.42, "acc_norm": 0.46, "exact_match (strict-match)": 0.1}


def test_the_card_line_names_task_samples_limit_and_the_tuned_weights(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    record = {
        "lm_eval_version": "0.4.13",
        "tasks": ["arc_easy"],
        "limit": 50,
        "weights": "checkpoint-40",
        "results": {
            "arc_easy": {
                "samples": 50,
                "base": {"acc": 0.41, "acc_norm": 0.45, "word_perplexity": 31.5},
                "tuned": {"acc": 0.43, "acc_norm": 0.44, "word_perplexity": 30.2},
            }
        },
    }
    RunPaths(run).lm_eval.write_text(json.dumps(record))
    line = (
        "lm-eval arc_easy (50 samples, --limit 50, tuned = checkpoint-40): "
        "acc base 0.41 → tuned 0.43, acc_norm base 0.45 → tuned 0.44"
    )
    assert benchmark_lines(read_benchmark(run)) == [line]
    assert eval_card_lines(run)[-1] == line


def test_a_damaged_record_shows_nothing_instead_of_failing(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    for text in ("not json", "[1, 2]", '{"results": [1]}', '{"results": {"t": {"base": 1}}}'):
        RunPaths(run).lm_eval.write_text(text)
        assert benchmark_lines(read_benchmark(run)) == []
    partial = {"results": {"t": {"base": {"acc": 0.5}, "tuned": {"acc": "x"}}}}
    RunPaths(run).lm_eval.write_text(json.dumps(partial))
    assert benchmark_lines(read_benchmark(run)) == []
