"""A model's chat template renders within a time and size budget: a template bomb is reported
as "too slow" or "too large" naming the template and the limit, never a hang, a traceback or
gigabytes of memory (issue 17, item 10)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ftui.core.prompt.bounded_jinja import TemplateBudgetError, render_bounded
from ftui.core.prompt.own_template import render_chat
from ftui.core.prompt.templates import TemplateError
from tests.data_fixtures import tokenizer

ROOT = Path(__file__).resolve().parents[2]
MSGS = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]

SLOW = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
REUSED = "{% set r = range(100000) %}{% for i in r %}{% for j in r %}{% endfor %}{% endfor %}"
LARGE = {
    "repeat": "{{ 'x' * 100000000 }}",
    "range": "{% for i in range(10**9) %}{% endfor %}",
    "doubling": "{% set ns = namespace(s='x') %}{% for i in range(40) %}"
    "{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}",
    "plus": "{% set ns = namespace(s='x') %}{% for i in range(40) %}"
    "{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s }}",
    "format-width": "{{ '{:>999999999}'.format('x') }}",
    "percent-width": "{{ '%999999999s' % 'x' }}",
    "center": "{{ 'x' | center(1000000000) }}",
    "ljust": "{{ 'x'.ljust(1000000000) }}",
    "replace": "{{ ('y' * 100000).replace('', 'z' * 1000) }}",
    "power": "{{ 10 ** 100000000 }}",
    "output": "{% for i in range(100000) %}{{ 'x' * 1000 }}{% endfor %}",
}


def test_nested_loops_stop_at_the_time_budget() -> None:
    for source in (SLOW, REUSED):
        with pytest.raises(TemplateBudgetError) as err:
            render_bounded(source, seconds=0.2)
        assert err.value.kind == "slow"


@pytest.mark.parametrize("case", sorted(LARGE))
def test_values_over_the_size_limit_are_refused_before_they_are_built(case: str) -> None:
    with pytest.raises(TemplateBudgetError) as err:
        render_bounded(LARGE[case], messages=MSGS)
    assert err.value.kind == "large", err.value


def test_recursion_is_reported() -> None:
    with pytest.raises(TemplateBudgetError) as err:
        render_bounded("{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}")
    assert err.value.kind == "deep"


def test_render_chat_names_the_template_and_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    tok = tokenizer("chatml")
    for source, needle in (
        (SLOW, "is too slow: one conversation took over 2 s to render (the limit)"),
        (
            LARGE["repeat"],
            "is too large: a repeated value of 100000000 characters, over the "
            "limit of 16777216 characters",
        ),
        (LARGE["range"], "is too large"),
    ):
        monkeypatch.setattr(tok, "chat_template", source)
        with pytest.raises(TemplateError) as err:
            render_chat(tok, MSGS, False)
        msg = str(err.value)
        assert msg.startswith("template.name: tokenizer: the chat template of "), msg
        assert needle in msg and "pick an explicit template" in msg, msg


def test_ordinary_templates_render_exactly_as_transformers_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tok = tokenizer("chatml")
    loop = (
        "{{ bos_token }}{% for m in messages %}{% if loop.first %}[{{ loop.length }}]{% endif %}"
        "{{ m.role | upper }}: {{ m.content | trim }}{% if not loop.last %}\n{% endif %}"
        "{% endfor %}{% if add_generation_prompt %}{{ '\n' ~ 'ASSISTANT:' }}{% endif %}"
        "{{ eos_token * 2 }}{{ '%s-%d' % ('a', 3) }}{{ (messages | length) ** 2 }}"
    )
    for source in (tok.chat_template, loop):
        monkeypatch.setattr(tok, "chat_template", source)
        for gen in (False, True):
            want = tok.apply_chat_template(MSGS, tokenize=False, add_generation_prompt=gen)
            assert render_chat(tok, MSGS, gen) == want


PROBE = """
import resource
from ftui.core.prompt.bounded_jinja import render_bounded
resource.setrlimit(resource.RLIMIT_AS, (6 << 30, 6 << 30))  # never the whole machine
try:
    render_bounded("{{ 'x' * 4000000000 }}", messages=[{"role": "user", "content": "Hi"}])
    print("rendered")
except Exception as exc:
    print(type(exc).__name__, str(exc)[:80])
hwm = next(ln for ln in open("/proc/self/status") if ln.startswith("VmHWM"))
print(int(hwm.split()[1]) * 1024)
"""


def test_a_four_gigabyte_string_costs_no_memory() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, timeout=300
    )
    lines = out.stdout.splitlines()
    assert len(lines) == 2, out.stdout + out.stderr[-2000:]
    assert lines[0].startswith("TemplateBudgetError large"), lines[0]
    assert int(lines[1]) < 1 << 30, f"peak RSS {int(lines[1]) >> 20} MiB"


def test_the_lens_stops_at_the_first_costly_render(tmp_path: Path, monkeypatch) -> None:
    """A slow template is reported once, not paid again on each of the sampled rows."""
    from ftui.core.data.lens_report import lens_report
    from ftui.core.prompt import bounded_jinja
    from tests.data_fixtures import QA, spec_for, tiny_model, write_jsonl

    calls: list[int] = []
    real = bounded_jinja.render_bounded

    def counted(source: str, **context):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real(source, seconds=0.1, **context)

    monkeypatch.setattr(bounded_jinja, "render_bounded", counted)
    import shutil

    model = tmp_path / "model"  # a copy: the tiny model's directory is shared
    shutil.copytree(tiny_model(), model)
    config = model / "tokenizer_config.json"
    jinja = model / "chat_template.jinja"
    if jinja.exists():
        jinja.write_text(SLOW)
    else:
        import json

        cfg = json.loads(config.read_text())
        config.write_text(json.dumps({**cfg, "chat_template": SLOW}))
    rows = [{"question": q, "answer": a} for q, a in QA] * 5
    spec = spec_for(
        write_jsonl(tmp_path, "qa.jsonl", rows),
        model,
        data={"columns": {"prompt": "question", "response": "answer"}},
        template={"name": "tokenizer"},
    )
    report = lens_report(spec, rows=2, sample=20)
    assert report.errors and "is too slow" in report.errors[0], report.errors
    assert len(calls) <= 3  # a probe or two before the lens, then the first row: never per row
