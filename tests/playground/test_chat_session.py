"""The chat core on a real demo run: streaming, stop, settings, adapter on/off, checkpoints."""

from __future__ import annotations

from pathlib import Path

import pytest

from ftui.core.playground.compare import (
    adapter_sources,
    compare_base,
    ensure_adapter,
    probe_prompts,
    probe_table,
)
from ftui.core.playground.inference import (
    MAX_NEW_TOKENS_CAP,
    ChatModel,
    bound_max_new_tokens,
    load_chat_model,
    prompt_ids,
)
from ftui.core.playground.session import BASE, ChatSession

QUESTION = "What is the capital of France?"
ANSWER = "The capital of France is Paris."

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cm(demo_run: Path, demo_home: Path) -> ChatModel:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FTUI_HOME", str(demo_home))
        return load_chat_model(demo_run)


def test_streams_the_answer_in_chunks_and_ends_on_eos(cm: ChatModel) -> None:
    session = ChatSession(cm)
    chunks = list(session.stream(QUESTION))
    assert len(chunks) > 1
    assert "".join(chunks).strip() == ANSWER
    stats = session.last_stats
    assert stats is not None and not stats.stopped and not stats.hit_limit  # EOS ended it
    assert stats.new_tokens > 1 and stats.tokens_per_s > 0 and stats.ttft_s is not None
    assert [m.role for m in session.messages] == ["user", "assistant"]
    assert session.messages[-1].content == ANSWER


def test_history_is_rendered_with_the_runs_template(cm: ChatModel) -> None:
    session = ChatSession(cm, system_prompt="Be brief.")
    session.send(QUESTION)
    text = cm.tokenizer.decode(prompt_ids(cm, session.conversation("And Germany?")))
    assert text == (
        "<|im_start|>system\nBe brief.<|im_end|>\n"
        f"<|im_start|>user\n{QUESTION}<|im_end|>\n<|im_start|>assistant\n{ANSWER}<|im_end|>\n"
        "<|im_start|>user\nAnd Germany?<|im_end|>\n<|im_start|>assistant\n"
    )
    session.clear()
    assert session.messages == [] and session.last_stats is None


def test_stop_ends_generation_early(cm: ChatModel) -> None:
    session = ChatSession(cm, adapter=BASE)  # the base rambles up to max_new_tokens
    session.set_settings(max_new_tokens=200)
    stream = session.stream("Tell me everything")
    next(stream)
    session.stop()
    rest = list(stream)
    stats = session.last_stats
    assert stats is not None and stats.stopped
    assert stats.new_tokens < 200, (stats, rest)


def test_max_new_tokens_is_bounded(cm: ChatModel) -> None:
    session = ChatSession(cm, adapter=BASE)
    session.set_settings(max_new_tokens=5)
    session.send("Tell me everything")
    assert session.last_stats is not None and session.last_stats.hit_limit
    assert session.last_stats.new_tokens <= 6  # 5 plus, at most, nothing: never more
    ctx = cm.context_length or 0
    assert bound_max_new_tokens(cm, 10, 10**6) == min(MAX_NEW_TOKENS_CAP, ctx - 10)
    with pytest.raises(ValueError, match="clear the conversation"):
        bound_max_new_tokens(cm, ctx, 10)


def test_settings_are_validated_like_the_spec(cm: ChatModel) -> None:
    session = ChatSession(cm)
    assert session.settings == cm.spec.generation  # they start from the run's spec
    with pytest.raises(ValueError, match="generation.temperature"):
        session.set_settings(temperature=-1)
    with pytest.raises(ValueError, match="generation.top_p"):
        session.set_settings(top_p=0)
    assert session.set_settings(temperature=0.7, top_k=5).temperature == 0.7


def test_adapter_off_is_the_base_model(cm: ChatModel, demo: Path) -> None:
    answers = compare_base(cm, QUESTION)
    assert answers["default"] == ANSWER
    assert answers[BASE] != ANSWER
    plain_base = load_chat_model(demo, base=True)
    session = ChatSession(plain_base)
    assert session.send(QUESTION) == answers[BASE]  # disable_adapter() == never loaded


def test_every_checkpoint_answers_the_probes(cm: ChatModel) -> None:
    sources = adapter_sources(Path(cm.source).parent)
    assert [s.name for s in sources][-1] == "final" and len(sources) >= 2
    probes = probe_prompts(cm.spec, limit=3)
    assert probes[0].prompt == QUESTION and probes[0].expected == ANSWER
    cells: list[tuple[int, str]] = []
    table = probe_table(cm, sources, probes, on_cell=lambda i, col, _: cells.append((i, col)))
    assert list(table) == [BASE] + [s.name for s in sources]
    assert len(cells) == 3 * len(table)
    assert table["final"] == [p.expected for p in probes]
    assert all(a != p.expected for a, p in zip(table[BASE], probes, strict=True))
    name = ensure_adapter(cm, sources[0])
    assert name in cm.adapters and ensure_adapter(cm, sources[0]) == name  # loaded once
    assert cm.model.active_adapter in cm.adapters
    session = ChatSession(cm)
    session.set_adapter(name)
    assert session.send(QUESTION) == table[sources[0].name][0]
    with pytest.raises(ValueError):
        session.set_adapter("nope")
