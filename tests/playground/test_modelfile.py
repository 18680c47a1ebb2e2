"""The Ollama Modelfile: its TEMPLATE, run as Go's text/template would, prompts exactly like
the training template; every end-of-turn marker is a stop."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from ftui.core.playground.gotemplate import GoTemplateError, execute
from ftui.core.playground.modelfile import ModelfileError, build_modelfile, runtime_bos
from ftui.core.prompt.encode import segments_text
from ftui.core.prompt.templates import Conversation, Message, render
from ftui.core.spec import RunSpec
from tests.real_artefacts import SMOLLM2, real_tokenizer

CHAT = [
    Message("user", "Who are you?"),
    Message("assistant", "A helper."),
    Message("user", "What is 2+2?"),
    Message("assistant", "4"),
    Message("user", "Thanks, and 3+3?"),
]


def spec(name: str, system: str | None = None) -> RunSpec:
    return RunSpec.model_validate({"template": {"name": name, "system_prompt": system}})


def parsed(text: str) -> tuple[str, str | None, list[str], dict[str, str]]:
    """TEMPLATE, SYSTEM, the stops and the other PARAMETERs, read back from a Modelfile."""
    template = re.search(r'^TEMPLATE """(.*?)"""$', text, re.S | re.M)
    system = re.search(r'^SYSTEM """(.*?)"""$', text, re.S | re.M)
    stops = [eval(s) for s in re.findall(r"^PARAMETER stop (.*)$", text, re.M)]  # JSON strings
    params = dict(re.findall(r"^PARAMETER (?!stop)(\S+) (.*)$", text, re.M))
    assert template is not None
    return template.group(1), system.group(1) if system else None, stops, params


def as_ollama(template: str, system: str | None, chat_system: str | None) -> str:
    """Ollama's chat: the Modelfile's SYSTEM first unless the chat has its own."""
    first = chat_system or system
    msgs = [{"Role": "system", "Content": first}] if first else []
    msgs += [{"Role": m.role, "Content": m.content} for m in CHAT]
    return execute(template, {"Messages": msgs})


def trained(section: RunSpec, tokenizer: Any, chat_system: str | None) -> str:
    msgs = ([Message("system", chat_system)] if chat_system else []) + CHAT
    return segments_text(
        render(section.template, Conversation(msgs), tokenizer, gen=True), tokenizer
    )[0]


@pytest.mark.parametrize("chat_system", [None, "You are a pirate."])
@pytest.mark.parametrize("run_system", [None, "Be brief."])
def test_chatml_on_the_demo_tokenizer(
    demo_model: Path, run_system: str | None, chat_system: str | None
) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(demo_model)
    s = spec("chatml", run_system)
    mf = build_modelfile(s, tokenizer, "./model-f16.gguf")
    template, system, stops, params = parsed(mf.text)
    assert mf.text.startswith("FROM ./model-f16.gguf\n")
    assert system == run_system
    assert runtime_bos(tokenizer) == ""  # ChatML has no BOS and the demo tokenizer adds none
    assert as_ollama(template, system, chat_system) == trained(s, tokenizer, chat_system)
    assert stops == ["<|im_end|>", "</s>"]
    assert params == {"temperature": "0.0", "num_predict": "128"}


def test_llama3_matches_the_official_template() -> None:
    tokenizer = real_tokenizer("llama3-tokenizer")
    s = spec("llama3")
    template, system, stops, _ = parsed(build_modelfile(s, tokenizer, "m.gguf").text)
    official = tokenizer.apply_chat_template(
        [{"role": m.role, "content": m.content} for m in CHAT],
        tokenize=False,
        add_generation_prompt=True,
    )
    assert official.startswith("<|begin_of_text|>")
    assert runtime_bos(tokenizer) == "<|begin_of_text|>"  # llama.cpp adds it, as training did
    assert runtime_bos(tokenizer) + as_ollama(template, system, None) == official
    assert official == trained(s, tokenizer, None)
    assert stops[0] == "<|eot_id|>" and tokenizer.eos_token in stops


@pytest.mark.parametrize("chat_system", [None, "You are a pirate."])
def test_smollm2_own_template_keeps_its_default_system_prompt(chat_system: str | None) -> None:
    tokenizer = real_tokenizer(SMOLLM2)
    s = spec("tokenizer")
    template, system, stops, _ = parsed(build_modelfile(s, tokenizer, "m.gguf").text)
    assert system == "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
    official = tokenizer.apply_chat_template(
        ([{"role": "system", "content": chat_system}] if chat_system else [])
        + [{"role": m.role, "content": m.content} for m in CHAT],
        tokenize=False,
        add_generation_prompt=True,
    )
    assert runtime_bos(tokenizer) == ""
    assert as_ollama(template, system, chat_system) == official
    assert stops == ["<|im_end|>"]


def test_sampling_defaults_become_parameters(demo_model: Path) -> None:
    from transformers import AutoTokenizer

    s = RunSpec.model_validate(
        {"template": {"name": "chatml"}, "generation": {"temperature": 0.7, "top_k": 40}}
    )
    _, _, _, params = parsed(
        build_modelfile(s, AutoTokenizer.from_pretrained(demo_model), "x").text
    )
    assert params == {"temperature": "0.7", "num_predict": "128", "top_k": "40", "top_p": "1.0"}


def test_a_template_without_a_go_equivalent_is_refused(demo_model: Path) -> None:
    from transformers import AutoTokenizer

    with pytest.raises(ModelfileError, match="no Ollama TEMPLATE for template 'alpaca'"):
        build_modelfile(spec("alpaca"), AutoTokenizer.from_pretrained(demo_model), "x")


def test_the_evaluator_trims_like_go_and_refuses_what_it_does_not_know() -> None:
    # Go: `{{- ` eats the whitespace before, ` -}}` the whitespace after.
    data = {"Messages": [{"Role": "a"}, {"Role": "b"}], "X": "x"}
    assert execute("1 \n {{- .X -}} \n 2", data) == "1x2"
    assert execute("[{{ range .Messages }}<{{ .Role }}>\n{{ end }}]", data) == "[<a>\n<b>\n]"
    for bad in ("{{ if .X }}y{{ end }}", "{{ range .Messages }}", "{{ end }}", "{{ .X | f }}"):
        with pytest.raises(GoTemplateError):
            execute(bad, data)
