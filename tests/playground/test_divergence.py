"""Where a runtime's greedy answer parts from ftui chat's, and whether that is a near-tie: on the
real SmolLM2-135M-Instruct, with the answer its q8_0 GGUF gave in llama.cpp (measured with
`make test-gguf-runtime`: 'L' where transformers says 'The', p 0.140 vs 0.152)."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from ftui.core.playground.divergence import divergence
from tests.real_artefacts import smollm2

FRANCE = "What is the capital of France?"
LLAMA_CPP_Q8_0 = "L'Étoile, la Cité, la Ville, la République, la République, la République"


@pytest.fixture(scope="module")
def greedy() -> tuple[Any, Any, list[int], list[int]]:
    model, tokenizer = smollm2()
    text = tokenizer.apply_chat_template(
        [{"role": "user", "content": FRANCE}], tokenize=False, add_generation_prompt=True
    )
    ids = tokenizer(text, add_special_tokens=False).input_ids
    with torch.no_grad():
        out = model.generate(torch.tensor([ids]), max_new_tokens=32, do_sample=False)
    return model, tokenizer, ids, out[0, len(ids) :].tolist()


def test_the_gguf_answer_parts_at_a_near_tie(greedy: tuple[Any, Any, list[int], list[int]]) -> None:
    model, tokenizer, ids, new = greedy
    assert tokenizer.decode(new, skip_special_tokens=True) == "The capital of France is Paris."
    d = divergence(model, tokenizer, ids, new, LLAMA_CPP_Q8_0)
    assert d is not None and (d.position, d.chosen, d.other) == (0, "The", "L")
    assert d.chosen_p == pytest.approx(0.152, abs=0.005)
    assert d.other_p == pytest.approx(0.140, abs=0.005)
    assert d.near_tie and "near-tie" in d.line() and "not a conversion error" in d.line()


def test_an_unlikely_token_is_not_a_near_tie(greedy: tuple[Any, Any, list[int], list[int]]) -> None:
    model, tokenizer, ids, new = greedy
    d = divergence(model, tokenizer, ids, new, "The capital of France is Berlin.")
    assert d is not None and d.chosen == " Paris" and d.other == " Berlin"
    assert d.position == 5 and d.chosen_p > 0.5 and d.other_p < 0.05
    assert not d.near_tie and "conversion is suspect" in d.line()


def test_running_on_past_the_answer_parts_at_its_stop_token(
    greedy: tuple[Any, Any, list[int], list[int]],
) -> None:
    model, tokenizer, ids, new = greedy
    assert divergence(model, tokenizer, ids, new, "The capital of France is Paris.") is None
    d = divergence(model, tokenizer, ids, new, "The capital of France is Paris. It is big.")
    assert d is not None and d.chosen == "<|im_end|>" and d.position == len(new) - 1
    assert d.chosen_p > 0.5 and not d.near_tie


def test_parity_passes_answers_that_part_only_at_near_ties() -> None:
    from ftui.core.playground.divergence import Divergence
    from ftui.core.playground.parity import ParityReport, RuntimeCheck

    tie = Divergence(0, "The", 0.152, "L", 0.140)
    wrong = Divergence(5, " Paris", 0.9, " Berlin", 0.001)
    reference = ["The capital of France is Paris.", "4"]
    gguf = RuntimeCheck("llama.cpp (q8_0)", [LLAMA_CPP_Q8_0, "4"], [True, True], parted={0: tie})
    report = ParityReport([FRANCE, "2+2"], reference, [gguf], 64)
    assert report.ok
    lines = report.lines()
    assert "  llama.cpp (q8_0): identical 1/2 (1 more part at near-ties) · stopped at an " in (
        "\n".join(lines)
    )
    assert lines[-2].startswith("    at answer token 1: ftui chat 'The' (p 0.152) vs 'L' (p 0.140")
    assert lines[-1] == "parity: ok"
    gguf.parted[0] = wrong
    assert not report.ok and report.lines()[-1] == "parity: FAILED"
    gguf.parted.clear()  # a parting not explained is a failure too
    assert not report.ok
