"""Preflight refuses or warns with a count and an example row; bad input on the command line
gets a clear message, a non-zero exit and no run dir."""

from __future__ import annotations

import json

import pytest
from conftest import run_ftui

from ftui.core.check.preflight import preflight
from tests.data_fixtures import QA, spec_for, tiny_model, write_jsonl, write_xsum_parquet


def _qa_rows(n: int = 20) -> list[dict[str, str]]:
    return [{"question": QA[i % 4][0], "answer": QA[i % 4][1]} for i in range(n)]


def _report(path, **sections):  # type: ignore[no-untyped-def]
    sections.setdefault("output", {"root": str(path.parent / "runs")})
    return preflight(spec_for(path, tiny_model("chatml"), **sections))


def test_clean_data_passes_with_stats(tmp_path):
    r = _report(write_jsonl(tmp_path, "qa.jsonl", _qa_rows()))
    assert r.ok and not r.warnings, r.lines()
    assert r.stats["rows"] == 20 and r.stats["format"] == "prompt_completion"
    assert r.stats["columns"] == {"prompt": "question", "response": "answer"}
    assert 0 < r.stats["trained_share"] < 1


def test_zero_rows_is_refused(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    r = _report(empty)
    assert r.errors == [("data.source", f"data.source: {empty} is empty (0 rows)")]
    r = _report(write_jsonl(tmp_path, "qa.jsonl", _qa_rows(4)), data={"split": "train[10:]"})
    assert not r.ok and r.errors[0][0] == "data.split" and "selects no rows" in r.errors[0][1]


def test_missing_column_names_the_ones_that_exist(tmp_path):
    cols = {"prompt": "question", "response": "reply"}
    r = _report(write_jsonl(tmp_path, "qa.jsonl", _qa_rows()), data={"columns": cols})
    assert r.errors == [
        (
            "data.columns",
            "data.columns: column 'reply' (for role response) does not exist; "
            "columns: question, answer",
        )
    ]


def test_too_many_rows_with_nothing_to_train_is_refused(tmp_path):
    path = write_xsum_parquet(tmp_path, rows=10)
    r = _report(path, data={"max_seq_len": 64}, template={"name": "summarize"})
    assert not r.ok
    fld, msg = r.errors[0]
    assert fld == "template.train_on_input"
    assert msg.startswith(
        "template.train_on_input: 10 of 10 rows (100%) have no token to train (limit 10%)"
    )
    assert '(e.g. row 1: "Article 0. The council met' in msg
    assert any(
        f == "data.max_seq_len" and "10 of 10 rows (100%) are longer than 64" in m
        for f, m in r.warnings
    )


def test_a_few_rows_with_nothing_to_train_are_a_warning(tmp_path):
    rows = _qa_rows(19) + [{"question": "word " * 300, "answer": "x"}]
    r = _report(write_jsonl(tmp_path, "qa.jsonl", rows), data={"max_seq_len": 128})
    assert r.ok, r.lines()
    msgs = [m for _, m in r.warnings]
    assert any(
        m.startswith(
            "data.columns: 1 of 20 rows have nothing to train and will be skipped (e.g. row 20"
        )
        for m in msgs
    )
    assert not any("longer than" in m for m in msgs)  # 5% truncated is not heavy


def test_empty_prompts_and_responses_are_warned_with_counts(tmp_path):
    rows = _qa_rows(18) + [{"question": "", "answer": "a"}, {"question": "q", "answer": ""}]
    r = _report(write_jsonl(tmp_path, "qa.jsonl", rows))
    assert r.ok
    msgs = [m for _, m in r.warnings]
    assert 'data.columns: 1 of 20 rows have an empty prompt (e.g. row 19: "/ a")' in msgs
    assert 'data.columns: 1 of 20 rows have an empty response (e.g. row 20: "q /")' in msgs


def test_heavy_truncation_warns_with_the_length_that_keeps_99_percent(tmp_path):
    rows = [{"question": "tell me " * (5 + i), "answer": "ok"} for i in range(20)]
    r = _report(
        write_jsonl(tmp_path, "qa.jsonl", rows),
        data={"max_seq_len": 24},
        template={"name": "completion"},
    )
    trunc = [m for f, m in r.warnings if f == "data.max_seq_len"]
    assert trunc and "are longer than 24 tokens and will be truncated" in trunc[0]
    assert f"{r.stats['suggested_max_seq_len']} keeps 99% whole" in trunc[0]
    assert r.stats["truncated"] == int(trunc[0].split(": ")[1].split(" of ")[0])


def test_template_mismatch_is_warned(tmp_path):
    spec = spec_for(
        write_jsonl(tmp_path, "qa.jsonl", _qa_rows()),
        tiny_model("llama3"),
        template={"name": "chatml"},
        output={"root": str(tmp_path / "runs")},
    )
    r = preflight(spec)
    assert (
        "template.name",
        "template.name: chatml, but this model's tokenizer carries a Llama-3 chat template; the model was tuned on that format: use llama3 or tokenizer",
    ) in r.warnings


def test_a_named_template_that_renders_otherwise_than_the_model_is_warned(tmp_path):
    r = _report(write_jsonl(tmp_path, "qa.jsonl", _qa_rows()), template={"name": "alpaca"})
    assert r.ok
    assert (
        "template.name",
        "template.name: alpaca renders row 1 differently from this model's own chat template "
        "at token 0: ftui '<s>' vs model '<|im_start|>'; use template: tokenizer",
    ) in r.warnings
    same = _report(write_jsonl(tmp_path, "qa.jsonl", _qa_rows()), template={"name": "chatml"})
    assert not [m for f, m in same.warnings if f == "template.name"], same.lines()


def test_tokenizer_template_on_a_base_model_is_refused(tmp_path):
    spec = spec_for(
        write_jsonl(tmp_path, "qa.jsonl", _qa_rows()),
        tiny_model("base"),
        template={"name": "tokenizer"},
        output={"root": str(tmp_path / "runs")},
    )
    r = preflight(spec)
    assert not r.ok and r.errors[0][0] == "template.name"
    assert r.errors[0][1].startswith("20 of 20 rows cannot be rendered: template.name: tokenizer")


# --- the command line -------------------------------------------------------------------------


def _spec_file(tmp_path, source, model=None, **data) -> str:  # type: ignore[no-untyped-def]
    spec = spec_for(
        source, model or tiny_model("chatml"), data=data, output={"root": str(tmp_path / "runs")}
    )
    path = tmp_path / "spec.yaml"
    spec.save(path)
    return str(path)


def _no_run_dir(tmp_path) -> bool:  # type: ignore[no-untyped-def]
    runs = tmp_path / "runs"
    return not runs.exists() or not any(runs.iterdir())


BAD = {
    "missing column": (
        {"columns": {"prompt": "question", "response": "reply"}},
        "columns: question, answer",
    ),
    "empty dataset": ({"source": "EMPTY"}, "is empty (0 rows)"),
    "no such split": ({"split": "validation"}, "data.split: 'validation' does not exist"),
    "no such model": ({"model": "MISSING"}, "does not exist"),
}


@pytest.mark.parametrize("case", sorted(BAD))
@pytest.mark.parametrize("command", ["run", "preview"])  # validate runs the same preflight as run
def test_bad_input_on_the_command_line(case, command, tmp_path):
    data, expected = BAD[case]
    data = dict(data)
    source = write_jsonl(tmp_path, "qa.jsonl", _qa_rows())
    model = None
    if data.pop("model", None):
        model = tmp_path / "no-such-model"
    if data.get("source") == "EMPTY":
        data["source"] = str(tmp_path / "empty.jsonl")
        (tmp_path / "empty.jsonl").write_text("")
    spec = _spec_file(tmp_path, data.pop("source", source), model, **data)
    args = [command, spec] + (["--detach"] if command == "run" else [])
    r = run_ftui(*args, cwd=tmp_path)
    assert r.returncode != 0
    assert expected in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert _no_run_dir(tmp_path)


def test_preview_json_reports_format_mapping_reasons_and_stats(tmp_path):
    path = write_xsum_parquet(tmp_path, rows=8)
    spec = _spec_file(tmp_path, path, max_seq_len=512)
    r = run_ftui(
        "preview", spec, "--json", "--rows", "1", "--set", "template.name=summarize", cwd=tmp_path
    )
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["format"] == "prompt_completion" and out["columns"] == {
        "prompt": "document",
        "response": "summary",
    }
    assert out["reasons"][0].startswith("`document` looks like the prompt")
    assert out["stats"]["rows"] == 8 and out["stats"]["truncated"] == 0
    assert out["suggested_template"]["name"] == "tokenizer"
    row = out["rows"][0]
    tokens = row["tokens"]
    assert "".join(t for t, trained in tokens if trained) == "Council 0 debates the bridge.</s>"
    # the ids and labels the worker trains on, aligned with the pieces
    assert len(row["input_ids"]) == len(row["labels"]) == len(tokens) == row["length"]
    for (_, trained), tid, label in zip(tokens, row["input_ids"], row["labels"], strict=True):
        assert label == (tid if trained else -100)


def test_preview_text_colours_trained_and_masked_tokens(tmp_path):
    spec = _spec_file(tmp_path, write_jsonl(tmp_path, "qa.jsonl", _qa_rows(4)))
    r = run_ftui("preview", spec, "--rows", "1", "--color", "always", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "\x1b[32mThe\x1b[0m" in r.stdout  # trained: green
    assert "\x1b[90mWhat\x1b[0m" in r.stdout  # masked: grey
    plain = run_ftui("preview", spec, "--rows", "1", "--tokens", cwd=tmp_path).stdout
    assert "|The| capital| of| France| is| Paris|.|<|im_end|>" in plain.replace("⟧", "")


def test_prompt_only_mapping_trains_the_prompt_or_is_refused(tmp_path):
    path = write_jsonl(tmp_path, "t.jsonl", [{"text": f"line {i} of text"} for i in range(10)])
    lm = {"name": "llama2", "train_on_input": True}
    r = _report(path, data={"columns": {"prompt": "text"}}, template=lm)
    assert r.ok and not [w for w in r.warnings if w[0] != "template.name"], r.lines()
    assert r.stats["trained_share"] == 1.0 and r.stats["empty_response"] == 0
    r = _report(path, data={"columns": {"prompt": "text"}}, template={"name": "alpaca"})
    assert not r.ok and "10 of 10 rows (100%) have no token to train" in r.errors[0][1]


def test_all_responses_empty_is_refused_most_empty_is_warned(tmp_path):
    rows = [{"Frage (Deutsch)": q, "回答": ""} for q, _ in QA * 5]
    cols = {"prompt": "Frage (Deutsch)", "response": "回答"}
    path = write_jsonl(tmp_path, "qa.jsonl", rows)
    r = _report(path, data={"columns": cols})
    assert not r.ok
    fld, msg = r.errors[0]
    assert fld == "data.columns"
    assert msg.startswith(
        "data.columns: every one of 20 rows has an empty response in column '回答': only the end-of-turn "
        "token would be trained; map data.columns.response to the column that holds the "
        "answers, or set template.train_on_input=true to train on prompt-only text"
    )
    # prompt-only text on purpose: the prompt is trained, so it is only a warning
    r = _report(path, data={"columns": cols}, template={"name": "alpaca", "train_on_input": True})
    assert r.ok, r.lines()
    rows[0]["回答"] = "Paris."
    r = _report(write_jsonl(tmp_path, "most.jsonl", rows), data={"columns": cols})
    assert r.ok, r.lines()
    assert (
        "data.columns",
        "data.columns: 19 of 20 rows have an empty response (95%): they train only the "
        'end-of-turn token (e.g. row 2: "What is 2 plus 2? /")',
    ) in r.warnings


def test_max_seq_len_above_the_models_context_is_warned_and_never_suggested(tmp_path):
    rows = [{"question": "tell me " * 400, "answer": "ok"} for _ in range(4)]
    path = write_jsonl(tmp_path, "long.jsonl", rows)
    r = _report(path, data={"max_seq_len": 100000}, template={"name": "completion"})
    assert r.ok, r.lines()  # transformers runs it (rotary positions): a warning, not a refusal
    longest = r.stats["longest"]
    assert longest > 2048
    assert (
        "data.max_seq_len",
        "data.max_seq_len: 100000 is above the model's context length 2048 "
        f"(max_position_embeddings): positions past 2048 were never trained; the longest row "
        f"checked has {longest} tokens; set data.max_seq_len=2048 or less",
    ) in r.warnings
    r = _report(path, data={"max_seq_len": 1024}, template={"name": "completion"})
    assert r.stats["suggested_max_seq_len"] == 2048
    trunc = [m for f, m in r.warnings if f == "data.max_seq_len"]
    assert len(trunc) == 1, trunc  # 1024 is within the context: no context warning
    assert (
        "would keep 99% whole but is above the model's context length 2048; 2048 keeps the "
        'most (e.g. row 1: "tell me'
    ) in trunc[0]


def test_preview_of_rows_that_cannot_be_rendered_exits_non_zero_after_showing_them(tmp_path):
    # A base model has no chat template of its own: template tokenizer fails on every row.
    spec = _spec_file(tmp_path, write_jsonl(tmp_path, "qa.jsonl", _qa_rows(4)), tiny_model("base"))
    r = run_ftui("preview", spec, "--rows", "1", "--set", "template.name=tokenizer", cwd=tmp_path)
    assert r.returncode == 2, r.stdout
    assert "cannot render: template.name: tokenizer" in r.stdout  # the rows are still shown
    assert r.stderr.startswith("error: template.name: none of the 4 rows read can be rendered")
    assert "(row 1: template.name: tokenizer" in r.stderr and "Traceback" not in r.stderr
    js = run_ftui("preview", spec, "--json", "--set", "template.name=tokenizer", cwd=tmp_path)
    assert js.returncode == 2 and json.loads(js.stdout)["stats"]["errors"] == 4
