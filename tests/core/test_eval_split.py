"""data.eval_split: auto (the default), none, and the values it accepted before."""

from __future__ import annotations

import pytest

from ftui.core.data.dataset import load_train_eval
from ftui.core.data.eval_split import AUTO_MIN_ROWS, auto_plan, describe
from ftui.core.spec import RunSpec, SpecError, spec_from_dict
from tests.data_fixtures import spec_for, write_jsonl


def rows(n: int) -> list[dict]:
    return [{"prompt": f"question {i}", "response": f"answer {i}"} for i in range(n)]


def split(tmp_path, data: list[dict], **data_fields):  # type: ignore[no-untyped-def]
    path = write_jsonl(tmp_path, "d.jsonl", data)
    return load_train_eval(spec_for(path, "m", data=data_fields))


def test_auto_is_the_default_and_none_fraction_and_split_names_still_work():
    assert RunSpec().data.eval_split == "auto"
    for value in ("none", "auto", "0.1", "5%", "validation", "train[90%:]"):
        assert spec_from_dict({"data": {"eval_split": value}}).data.eval_split == value
    # eval_steps with nothing to evaluate is the one contradiction; auto is decided by the rows
    with pytest.raises(SpecError, match=r"train\.eval_steps: set, but data\.eval_split is none"):
        spec_from_dict({"data": {"eval_split": "none"}, "train": {"eval_steps": 10}})
    spec_from_dict({"train": {"eval_steps": 10}})


@pytest.mark.parametrize(
    ("total", "held"), [(AUTO_MIN_ROWS, 10), (1000, 50), (4321, 216), (100_000, 1000)]
)
def test_auto_sizes_a_few_percent_at_least_a_handful_at_most_a_thousand(total, held):
    assert auto_plan(total, seed=1).held_out == held


def test_auto_is_deterministic_and_disjoint_and_keeps_the_training_order(tmp_path):
    data = rows(400)
    train, ev = split(tmp_path, data, eval_split="auto")
    assert (len(train), len(ev)) == (380, 20)
    again_train, again_ev = split(tmp_path, data, eval_split="auto")
    assert list(ev["prompt"]) == list(again_ev["prompt"])  # the same seed, the same rows
    assert not set(train["prompt"]) & set(ev["prompt"])
    assert set(train["prompt"]) | set(ev["prompt"]) == {r["prompt"] for r in data}
    order = [int(p.split()[1]) for p in train["prompt"]]
    assert order == sorted(order)
    other = load_train_eval(
        spec_for(tmp_path / "d.jsonl", "m", data={"eval_split": "auto"}, train={"seed": 7})
    )[1]
    assert list(other["prompt"]) != list(ev["prompt"])  # train.seed picks them


def test_auto_never_evaluates_on_a_row_it_also_trains_on(tmp_path):
    data = rows(150) * 2  # every row twice: a held-out row's twin stays in the training rows
    data += [{"prompt": f"unique {i}", "response": "x"} for i in range(100)]
    train, ev = split(tmp_path, data, eval_split="auto")
    trained = {(r["prompt"], r["response"]) for r in train}
    assert len(ev) > 0 and not any((r["prompt"], r["response"]) in trained for r in ev)
    assert len(ev) < 20  # drawn rows whose twin is trained on are not evaluated
    assert len(train) + 20 == len(data)  # the training rows lose only the 20 drawn


def test_auto_is_off_for_small_data_and_says_why(tmp_path):
    train, ev = split(tmp_path, rows(40), eval_split="auto")
    assert ev is None and len(train) == 40
    note = describe("auto", 40, 0, 42)
    assert note.startswith("eval split off: 40 rows is too few to hold some out")
    assert f">= {AUTO_MIN_ROWS}" in note
    assert describe("auto", 380, 20, 42).startswith("eval split auto: 20 of 400 rows held out")
    assert split(tmp_path, rows(400), eval_split="none")[1] is None


def test_preflight_says_what_the_eval_split_does(tmp_path):
    from ftui.core.check.preflight import PreflightReport, check_data
    from ftui.core.model.tokenizer import load_tokenizer
    from tests.data_fixtures import tiny_model

    model = tiny_model()
    tok = load_tokenizer(str(model), None, False)
    for n, expected in ((40, "eval split off: 40 rows"), (400, "eval split auto: 20 of 400")):
        path = write_jsonl(tmp_path, f"d{n}.jsonl", rows(n))
        report = PreflightReport()
        check_data(spec_for(path, model, data={"format": "prompt_completion"}), tok, report)
        assert any(line.startswith(f"note: {expected}") for line in report.lines()), report.lines()
