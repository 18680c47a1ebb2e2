"""Format detection and mapping: one fixture file per format, read the way the wizard and
`ftui preview` read it (the first rows, never the whole file), detected and mapped."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ftui.core.data.dataset import DataError, load_split, resolve_mapping, row_to_conversation
from ftui.core.data.formats import detect_format, split_marked_turns
from ftui.core.data.preview import preview_rows
from ftui.core.spec import DataSection
from tests.data_fixtures import QA, WRITERS, write_jsonl

EXPECTED = {
    "alpaca": (
        "instruction",
        "alpaca",
        {"prompt": "instruction", "input": "input", "response": "output"},
    ),
    "sharegpt": ("chat", "sharegpt", {"messages": "conversations"}),
    "openai": ("chat", "openai", {"messages": "messages"}),
    "csv": ("prompt_completion", "pairs", {"prompt": "Kundentext", "response": "Agent Reply Text"}),
    "xsum": ("prompt_completion", "pairs", {"prompt": "document", "response": "summary"}),
    "guanaco": ("text", "guanaco", {"text": "text"}),
}


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_each_format_is_detected_and_mapped(kind, tmp_path):
    path = WRITERS[kind](tmp_path)
    pv = preview_rows(DataSection(source=str(path)), n=10)
    assert pv.rows and pv.streamed
    det = detect_format(pv.columns, pv.rows)
    fmt, style, columns = EXPECTED[kind]
    assert (det.format, det.style, det.columns) == (fmt, style, columns), det.reasons
    assert set(det.ignored) == set(pv.columns) - set(columns.values())
    conv = row_to_conversation(pv.rows[0], det)
    q, a = QA[0]
    if kind == "guanaco":
        assert conv.text == f"### Human: {q}### Assistant: {a}"
    elif kind == "xsum":
        assert conv.turns[0].content.startswith("Article 0.")
        assert conv.turns[1].content == "Council 0 debates the bridge."
    else:
        assert [(m.role, m.content) for m in conv.turns] == [("user", q), ("assistant", a)]
    if kind == "alpaca":
        assert conv.input == "Answer briefly."
    if kind == "openai":
        assert conv.system == "Be brief."


def test_xsum_reason_says_document_looks_like_the_prompt(tmp_path):
    pv = preview_rows(DataSection(source=str(WRITERS["xsum"](tmp_path))), n=10)
    det = detect_format(pv.columns, pv.rows)
    assert det.reasons[0].startswith("`document` looks like the prompt: named like one; long text")
    assert det.reasons[1].startswith("`summary` like the response: named like one")
    assert "ignored: `id`" in det.reasons


def test_unnamed_columns_decided_by_question_marks_then_length_then_order():
    qs = [{"a": "Where is Rome?", "b": "In Italy."}, {"a": "Who wrote it?", "b": "Nobody."}]
    det = detect_format(["b", "a"], [{"b": r["b"], "a": r["a"]} for r in qs])
    assert det.columns == {"prompt": "a", "response": "b"}
    assert "end with '?'" in det.reasons[0]
    long_short = [{"x": "word " * 80, "y": "short"}] * 3
    assert detect_format(["y", "x"], long_short).columns == {"prompt": "x", "response": "y"}
    same = [{"first": "hello there", "second": "general kenobi"}] * 3
    det = detect_format(["first", "second"], same)
    assert det.columns == {"prompt": "first", "response": "second"}
    assert "comes first" in det.reasons[0]


def test_dolly_style_maps_context_as_input():
    rows = [
        {"instruction": "Sum up.", "context": "Long text.", "response": "Short.", "category": "qa"}
    ]
    det = detect_format(list(rows[0]), rows)
    assert det.format == "instruction" and det.style == "dolly"
    assert det.columns == {"prompt": "instruction", "input": "context", "response": "response"}


def test_guanaco_can_be_split_into_turns_when_format_is_chat(tmp_path):
    path = WRITERS["guanaco"](tmp_path)
    pv = preview_rows(DataSection(source=str(path)), n=10)
    det = resolve_mapping(DataSection(source=str(path), format="chat"), pv.columns, pv.rows)
    assert det.format == "chat" and det.columns == {"messages": "text"}
    conv = row_to_conversation(pv.rows[0], det)
    assert [(m.role, m.content) for m in conv.turns] == [
        ("user", QA[0][0]),
        ("assistant", QA[0][1]),
    ]
    assert split_marked_turns("### Human: a ### Assistant: b ### Human: c") == [
        ("user", "a"),
        ("assistant", "b"),
        ("user", "c"),
    ]


def test_mapped_column_that_does_not_exist_names_the_real_ones():
    data = DataSection(source="x", columns={"prompt": "question", "response": "answr"})
    with pytest.raises(DataError) as exc:
        resolve_mapping(data, ["question", "answer"], [{"question": "q", "answer": "a"}])
    assert str(exc.value) == (
        "data.columns: column 'answr' (for role response) does not exist; columns: question, answer"
    )


def test_mapping_missing_a_role_the_format_needs():
    data = DataSection(source="x", columns={"response": "answer"})
    with pytest.raises(DataError, match="format prompt_completion needs a 'prompt' column"):
        resolve_mapping(data, ["question", "answer"], [{"question": "q", "answer": "a"}])
    chat = DataSection(source="x", format="chat", columns={"system": "question"})
    with pytest.raises(DataError, match="format chat needs a 'messages' column"):
        resolve_mapping(chat, ["question", "answer"], [{"question": "q", "answer": "a"}])
    # a prompt alone is allowed: each prompt is trained on itself (train_on_input)
    only = DataSection(source="x", columns={"prompt": "question"})
    det = resolve_mapping(only, ["question", "answer"], [{"question": "q", "answer": "a"}])
    assert det.format == "prompt_completion" and det.ignored == ["answer"]


def test_no_text_columns_is_a_clear_error():
    with pytest.raises(DataError, match="cannot tell the format from columns n, m"):
        detect_format(["n", "m"], [{"n": 1, "m": 2.0}])


def test_preview_reads_the_first_rows_of_a_big_jsonl_only(tmp_path):
    rows = [{"prompt": f"q{i}", "response": f"a{i}"} for i in range(5000)]
    path = write_jsonl(tmp_path, "big.jsonl", rows)
    with path.open("a") as fh:
        fh.write("this line is not json\n")  # a full load would fail on it
    pv = preview_rows(DataSection(source=str(path), split="train[10:]"), n=3)
    assert [r["prompt"] for r in pv.rows] == ["q10", "q11", "q12"]
    assert pv.total_rows == 4991  # counted lines (the broken one too) minus the slice


def test_preview_parquet_counts_rows_from_the_footer(tmp_path):
    path = WRITERS["xsum"](tmp_path, rows=50)
    pv = preview_rows(DataSection(source=str(path), split="train[:20]"), n=5)
    assert len(pv.rows) == 5 and pv.total_rows == 20 and pv.columns == ["document", "summary", "id"]


def test_preview_of_an_unknown_hub_dataset_offline_is_a_data_error():
    with pytest.raises(
        DataError, match=r"^data\.(source|split): cannot preview 'nobody/nothing-here'"
    ):
        preview_rows(DataSection(source="nobody/nothing-here"), n=3)


def test_eval_split_as_named_split_slice_and_fraction(tmp_path):
    from ftui.core.data.dataset import load_train_eval
    from tests.data_fixtures import spec_for

    rows = [{"prompt": f"q{i}", "response": f"a{i}"} for i in range(20)]
    path = write_jsonl(tmp_path, "d.jsonl", rows)
    spec = spec_for(path, "m", data={"split": "train[:16]", "eval_split": "train[16:]"})
    tr, ev = load_train_eval(spec)
    assert (len(tr), len(ev)) == (16, 4) and ev[0]["prompt"] == "q16"
    spec = spec_for(path, "m", data={"eval_split": "0.25"})
    tr, ev = load_train_eval(spec)
    assert (len(tr), len(ev)) == (15, 5)
    assert not {r["prompt"] for r in tr} & {r["prompt"] for r in ev}
    spec = spec_for(path, "m", data={"eval_split": "validation"})
    with pytest.raises(DataError, match=r"^data\.eval_split: 'validation' does not exist"):
        load_train_eval(spec)
    tmp2 = tmp_path / "split"
    tmp2.mkdir()
    (tmp2 / "x.jsonl").write_text("")
    with pytest.raises(DataError, match=r"is empty \(0 rows\)"):
        load_split(DataSection(source=str(tmp2 / "x.jsonl")))


def test_hub_choices_offline_say_so():
    from ftui.core.data.preview import hub_choices

    with pytest.raises(
        DataError, match="offline \\(HF_HUB_OFFLINE=1\\): type the subset and split"
    ):
        hub_choices("EdinburghNLP/xsum")


def test_plain_text_file_and_tsv(tmp_path):
    txt = tmp_path / "corpus.txt"
    txt.write_text("The first line of text.\n\nThe second line.\n")
    pv = preview_rows(DataSection(source=str(txt)), n=10)
    texts = [{"text": "The first line of text."}, {"text": ""}, {"text": "The second line."}]
    assert pv.rows == texts and pv.total_rows == 3
    assert load_split(DataSection(source=str(txt)))[:] == {"text": [t["text"] for t in texts]}
    det = detect_format(pv.columns, pv.rows)
    assert (det.format, det.style, det.columns) == ("text", "plain", {"text": "text"})
    tsv = tmp_path / "pairs.tsv"
    tsv.write_text("question\tanswer\nWhy?\tBecause.\nHow?\tLike this.\n")
    pv = preview_rows(DataSection(source=str(tsv)), n=10)
    assert pv.total_rows == 2 and pv.rows[1] == {"question": "How?", "answer": "Like this."}
    assert detect_format(pv.columns, pv.rows).columns == {
        "prompt": "question",
        "response": "answer",
    }
    assert len(load_split(DataSection(source=str(tsv)))) == 2  # what training reads agrees


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.text(alphabet="abcdefgh_ ", min_size=1, max_size=12), min_size=1, max_size=5, unique=True
    ),
    st.data(),
)
def test_detection_maps_only_real_columns_and_explains_itself(columns, data):
    cell = st.one_of(st.text(max_size=40), st.none(), st.integers())
    rows = data.draw(
        st.lists(st.fixed_dictionaries({c: cell for c in columns}), min_size=1, max_size=6)
    )
    try:
        det = detect_format(columns, rows)
    except DataError as exc:
        assert str(exc).startswith("data.format: cannot tell the format from columns")
        return
    assert set(det.columns.values()) <= set(columns)
    assert sorted(det.ignored + list(dict.fromkeys(det.columns.values()))) == sorted(columns)
    assert det.reasons and det.format in ("chat", "instruction", "prompt_completion", "text")
    for row in rows:
        row_to_conversation(row, det)  # never raises on the rows it was detected from


def test_a_new_source_keeps_only_the_choices_whose_columns_it_has():
    from ftui.core.data.dataset import carry_mapping

    old = DataSection(
        source="qa.csv",
        format="instruction",
        columns={"prompt": "Frage (Deutsch)", "input": "Context", "response": "回答"},
    )
    chat = [{"messages": [{"role": "user", "content": "hi"}]}]
    assert carry_mapping(old, ["messages"], chat) == ("auto", {})  # nothing kept: detect
    rows = [{"Frage (Deutsch)": "Wie?", "回答": "So.", "Note": "x" * 40}]
    fmt, cols = carry_mapping(old, ["Frage (Deutsch)", "回答", "Note"], rows)
    assert (fmt, cols) == ("instruction", {"prompt": "Frage (Deutsch)", "response": "回答"})
    # a kept prompt, its response detected in the new source
    rows = [{"Frage (Deutsch)": "Wie geht das?", "answer": "So geht das."}]
    fmt, cols = carry_mapping(old, ["Frage (Deutsch)", "answer"], rows)
    assert cols == {"prompt": "Frage (Deutsch)", "response": "answer"}
