"""Dataset files in every format the data step recognises, written by the tests, and tiny
models whose tokenizers carry the special tokens of the chat templates."""

from __future__ import annotations

import csv
import json
import tempfile
from functools import cache
from pathlib import Path

LLAMA3_TOKENS = ["<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]
LLAMA3_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}"
    "{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n' + message['content']"
    " + '<|eot_id|>' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}"
    "{% endif %}"
)
QA = [
    ("What is the capital of France?", "The capital of France is Paris."),
    ("What is 2 plus 2?", "2 plus 2 is 4."),
    ("Name a primary colour.", "Red is a primary colour."),
    ("What do bees make?", "Bees make honey."),
]


@cache
def tiny_model(kind: str = "chatml") -> Path:
    """A tiny Llama whose tokenizer has the chatml and Llama-3 special tokens.

    kind: chatml (chat template chatml), llama3 (a Llama-3 chat template), base (none)."""
    from ftui.core.demo import CHATML_TEMPLATE, build_tiny_model

    template = {"chatml": CHATML_TEMPLATE, "llama3": LLAMA3_TEMPLATE, "base": None}[kind]
    path = Path(tempfile.mkdtemp(prefix=f"ftui-tiny-{kind}-"))
    return build_tiny_model(path, chat_template=template, extra_special_tokens=LLAMA3_TOKENS)


@cache
def tokenizer(kind: str = "chatml"):  # type: ignore[no-untyped-def]
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model(kind))


def write_alpaca_json(d: Path) -> Path:
    rows = [
        {"instruction": q, "input": "" if i % 2 else "Answer briefly.", "output": a}
        for i, (q, a) in enumerate(QA)
    ]
    p = d / "alpaca.json"
    p.write_text(json.dumps(rows, indent=1))
    return p


def write_sharegpt_jsonl(d: Path) -> Path:
    p = d / "sharegpt.jsonl"
    with p.open("w") as fh:
        for i, (q, a) in enumerate(QA):
            turns = [{"from": "human", "value": q}, {"from": "gpt", "value": a}]
            fh.write(json.dumps({"id": f"conv{i}", "conversations": turns}) + "\n")
    return p


def write_openai_jsonl(d: Path) -> Path:
    p = d / "messages.jsonl"
    with p.open("w") as fh:
        for q, a in QA:
            msgs = [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": q},
                {"role": "assistant", "content": a},
            ]
            fh.write(json.dumps({"messages": msgs}) + "\n")
    return p


def write_odd_csv(d: Path) -> Path:
    """Unusual column names: nothing in them says prompt or response."""
    p = d / "support.csv"
    with p.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["ticket_no", "Kundentext", "Agent Reply Text", "Kategorie"])
        for i, (q, a) in enumerate(QA):
            w.writerow([1000 + i, q, a, "general"])
    return p


def write_qa_csv(d: Path, name: str = "qa.csv", extra: bool = True) -> Path:
    """Question/answer columns named in German and Chinese, with an optional context column."""
    p = d / name
    with p.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Frage (Deutsch)", "回答", *(["Context"] if extra else [])])
        for q, a in QA:
            w.writerow([q, a, *(["Short answers."] if extra else [])])
    return p


def write_xsum_parquet(d: Path, rows: int = 6) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    docs = [
        (
            f"Article {i}. The council met on Tuesday to discuss the new bridge. "
            + "Residents raised concerns about traffic, noise and the cost of the works. " * 4
        )
        for i in range(rows)
    ]
    sums = [f"Council {i} debates the bridge." for i in range(rows)]
    table = pa.table(
        {"document": docs, "summary": sums, "id": [str(30000 + i) for i in range(rows)]}
    )
    p = d / "xsum.parquet"
    pq.write_table(table, p)
    return p


def write_guanaco_jsonl(d: Path) -> Path:
    p = d / "guanaco.jsonl"
    with p.open("w") as fh:
        for q, a in QA:
            fh.write(json.dumps({"text": f"### Human: {q}### Assistant: {a}"}) + "\n")
    return p


def write_jsonl(d: Path, name: str, rows: list[dict]) -> Path:
    p = d / name
    p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return p


WRITERS = {
    "alpaca": write_alpaca_json,
    "sharegpt": write_sharegpt_jsonl,
    "openai": write_openai_jsonl,
    "csv": write_odd_csv,
    "xsum": write_xsum_parquet,
    "guanaco": write_guanaco_jsonl,
}


def spec_for(source: Path | str, model: Path | str, **sections: dict) -> object:
    """A RunSpec on a local dataset and model, sections overriding the defaults."""
    from ftui.core.spec import spec_from_dict

    data = {"source": str(source), **sections.pop("data", {})}
    return spec_from_dict(
        {"name": "t", "model": {"name_or_path": str(model)}, "data": data, **sections}
    )
