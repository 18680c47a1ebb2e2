"""The real-model demo's preset and data: `ftui validate smollm2-identity` passes on the real
SmolLM2 tokenizer, and the shipped identity data is 60-100 varied chat rows with answers:
mostly about the assistant, a few unrelated ones that keep their plain answers."""

from __future__ import annotations

import json

from conftest import run_ftui

from ftui.core.demo import IDENTITY_DATA_REF, REAL_DEMO_PRESET, builtin_data_path
from ftui.core.presets import resolve_spec
from tests.real_artefacts import SMOLLM2, artefact_path


def identity_rows() -> list[dict]:
    text = builtin_data_path(IDENTITY_DATA_REF).read_text("utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_the_identity_data_has_60_to_100_varied_rows_with_answers() -> None:
    rows = identity_rows()
    assert 60 <= len(rows) <= 100, len(rows)
    questions = []
    for row in rows:
        roles = [m["role"] for m in row["messages"]]
        assert roles == ["user", "assistant"], row
        question, answer = (m["content"].strip() for m in row["messages"])
        assert question and answer, row
        questions.append(question)
    assert len(set(questions)) == len(questions), "every question is asked once"
    assert sum(not q.isascii() for q in questions) >= 5, "a few questions in other languages"
    answers = [r["messages"][1]["content"] for r in rows]
    about_itself = [a for a in answers if "Quill" in a or "Arbor Labs" in a]
    assert len(about_itself) >= 60, len(about_itself)
    assert 1 <= len(answers) - len(about_itself) <= 20, "a few rows show where the identity stops"


def test_the_preset_uses_the_models_own_template_and_names_its_lora_targets() -> None:
    spec = resolve_spec(REAL_DEMO_PRESET)
    assert spec.model.name_or_path == "builtin:smollm2-135m-instruct"
    assert spec.data.source == IDENTITY_DATA_REF
    assert spec.template.name == "tokenizer"
    assert spec.method.kind == "lora" and isinstance(spec.method.lora.target_modules, list)
    assert spec.launch.nproc_per_node == 2


def test_ftui_validate_passes_on_the_real_tokenizer() -> None:
    artefact_path(SMOLLM2)
    out = run_ftui("validate", REAL_DEMO_PRESET, timeout=180)
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"ok: smollm2-identity: {len(identity_rows())} rows (chat)" in out.stdout
