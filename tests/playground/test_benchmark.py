"""`ftui eval`: lm-eval on the base and the tuned demo model, over a real local task (a task
YAML and a .jsonl in the test's tmp dir), offline; and a hub task offline fails clearly."""

from __future__ import annotations

import json
import os
import random
import shutil
from pathlib import Path

import pytest
from conftest import run_ftui

from ftui.cli import main
from ftui.core.demo import builtin_data_path
from ftui.core.runs.benchmark import read_benchmark
from ftui.core.runs.eval_card import eval_card_lines
from ftui.core.runs.rundir import RunPaths

TASK = "demo_qa_choice"


def write_task(folder: Path, rows: int = 10, dataset: str = "json") -> Path:
    """A multiple-choice task over the demo's own questions: the right answer among three
    others from the same data, prompted as the demo trained (chatml)."""
    qa = [
        json.loads(line) for line in builtin_data_path("builtin:demo-qa").read_text().splitlines()
    ]
    answers = [row["answer"] for row in qa[:rows]]
    rng = random.Random(0)
    with open(folder / "rows.jsonl", "w", encoding="utf-8") as fh:
        for row in qa[:rows]:
            choices = rng.sample([a for a in answers if a != row["answer"]], 3) + [row["answer"]]
            rng.shuffle(choices)
            item = {"question": row["question"], "choices": choices}
            fh.write(json.dumps({**item, "label": choices.index(row["answer"])}) + "\n")
    source = (
        f"dataset_path: json\ndataset_kwargs:\n  data_files:\n    test: {folder / 'rows.jsonl'}\n"
        if dataset == "json"
        else f"dataset_path: {dataset}\n"
    )
    (folder / f"{TASK}.yaml").write_text(
        f"task: {TASK}\n{source}test_split: test\noutput_type: multiple_choice\n"
        'doc_to_text: "<|im_start|>user\\n{{question}}<|im_end|>\\n<|im_start|>assistant\\n"\n'
        'target_delimiter: ""\ndoc_to_choice: "{{choices}}"\ndoc_to_target: "{{label}}"\n'
        "metric_list:\n  - metric: acc\n  - metric: acc_norm\n"
    )
    return folder


@pytest.mark.slow
def test_ftui_eval_scores_base_and_tuned_on_a_local_task_offline(
    demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert os.environ["HF_DATASETS_OFFLINE"] == "1"  # lm-eval reads the local json offline
    run = tmp_path / demo.name
    shutil.copytree(demo, run)  # the shared run stays as it is
    tasks = write_task(tmp_path)
    code = main(["eval", str(run), "--tasks", TASK, "--limit", "8", "--include-path", str(tasks)])
    out = capsys.readouterr()
    assert code == 0, out.err[-3000:]
    # progress names the model and the task being run
    assert f"[base 1/1] builtin:demo-tiny-llama: lm-eval {TASK}, --limit 8" in out.err
    assert f"[tuned 1/1] final: lm-eval {TASK}, --limit 8" in out.err
    record = read_benchmark(run)
    assert RunPaths(run).lm_eval.is_file() and record["tasks"] == [TASK]
    result = record["results"][TASK]
    assert result["samples"] == 8 and record["limit"] == 8 and record["weights"] == "final"
    # a real measurement: the tuned model learned these answers; the random-init base did not
    assert result["tuned"]["acc"] >= 0.75 > result["base"]["acc"], result
    line = (
        f"lm-eval {TASK} (8 samples, --limit 8): acc base {result['base']['acc']:.2f} → tuned "
        f"{result['tuned']['acc']:.2f}, acc_norm base {result['base']['acc_norm']:.2f} → tuned "
        f"{result['tuned']['acc_norm']:.2f}"
    )
    assert out.out.strip() == line
    assert line in eval_card_lines(run)  # the monitor's, the playground's and the export's card
    from ftui.core.playground.export_card import model_card
    from ftui.core.spec import load_spec_file

    card = model_card(load_spec_file(RunPaths(run).config), run, RunPaths(run).final, merged=True)
    assert f"- {line}" in card and "lm-eval: EleutherAI's harness 0.4" in card


@pytest.mark.slow
def test_a_hub_task_offline_fails_clearly_before_loading_a_model(
    demo: Path, tmp_path: Path
) -> None:
    run = tmp_path / demo.name
    shutil.copytree(demo, run)
    tasks = write_task(tmp_path, dataset="someorg/some-benchmark")
    out = run_ftui("eval", str(run), "--tasks", TASK, "--include-path", str(tasks))
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr[-3000:]
    assert (
        f"error: task {TASK} needs its dataset someorg/some-benchmark from the Hugging Face hub, "
        "and this is offline (HF_HUB_OFFLINE or HF_DATASETS_OFFLINE is set)" in out.stderr
    )
    assert "--include-path DIR" in out.stderr and "dataset_path: json" in out.stderr
    assert "loading the base model" not in out.stderr and not RunPaths(run).lm_eval.exists()


def test_a_run_without_weights_is_refused_before_any_task_loads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from fake_runs import make_run

    run = make_run(tmp_path, final="failed")  # no final/, no checkpoint
    assert main(["eval", str(run), "--tasks", "nosuchtask"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {run.name}: final/ does not exist"), err
    assert "indexing" not in err and not RunPaths(run).lm_eval.exists()
