"""An Ollama Modelfile for an export: FROM, the run's template as a Go TEMPLATE, its stops.

Ollama builds the prompt from TEMPLATE (Go's text/template over `.Messages`, the Modelfile's
SYSTEM put first as a system message when the chat has none) and stops at each
`PARAMETER stop`. The TEMPLATE is the run's training template written in the few Go
constructs `gotemplate` evaluates; before it is written it is rendered for a multi-turn
conversation and compared with the training template's text, so a Modelfile that would
prompt the model differently from training is never written. llama.cpp (and so Ollama) puts
the BOS token in front itself when the GGUF says `add_bos_token`, so the TEMPLATE leaves it out
(`runtime_bos`). Ollama does not trim messages: Llama-3's template strips each one, so a
message with leading or trailing whitespace is the one place the two can differ.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from typing import Any

from ftui.core.playground.generation_config import end_of_turn_markers
from ftui.core.playground.gguf_export import adds_bos
from ftui.core.playground.gotemplate import execute
from ftui.core.prompt.conversation import Conversation, Message
from ftui.core.prompt.encode import segments_text
from ftui.core.prompt.templates import chat_template_family, render
from ftui.core.spec import RunSpec

MODELFILE = "Modelfile"

# Family -> (TEMPLATE, the system block around its text), for the families ftui renders
# exactly as their official chat template.
GO_TEMPLATES: dict[str, tuple[str, tuple[str, str]]] = {
    "chatml": (
        "{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}"
        "<|im_start|>assistant\n",
        ("<|im_start|>system\n", "<|im_end|>\n"),
    ),
    "llama3": (
        "{{- range .Messages }}<|start_header_id|>{{ .Role }}<|end_header_id|>\n\n"
        "{{ .Content }}<|eot_id|>{{ end }}<|start_header_id|>assistant<|end_header_id|>\n\n",
        ("<|start_header_id|>system<|end_header_id|>\n\n", "<|eot_id|>"),
    ),
}
CHECK_TURNS = (
    Message("user", "What is the capital of France?"),
    Message("assistant", "Paris."),
    Message("user", "And of Kenya?"),
)


class ModelfileError(ValueError):
    """No Modelfile for this run's template; the message says why and what to do."""


@dataclass
class Modelfile:
    text: str
    template: str
    system: str | None
    stops: list[str]


def template_family(spec: RunSpec, tokenizer: Any) -> str:
    name: str = spec.template.name
    if name == "tokenizer":
        name = chat_template_family(getattr(tokenizer, "chat_template", None)) or "none"
    return name


def training_prompt(spec: RunSpec, tokenizer: Any, turns: list[Message], system: str | None) -> str:
    """The text training renders for these turns, ready for the next answer (BOS included)."""
    conv = Conversation(([Message("system", system)] if system else []) + list(turns))
    return segments_text(render(spec.template, conv, tokenizer, gen=True), tokenizer)[0]


def runtime_bos(tokenizer: Any) -> str:
    """The BOS text llama.cpp puts in front of the prompt: the GGUF's add_bos_token comes
    from the tokenizer's post-processor, which is what `tokenizer("a")` applies."""
    return str(tokenizer.bos_token) if adds_bos(tokenizer) else ""


def ollama_prompt(template: str, turns: list[Message], system: str | None) -> str:
    """What Ollama renders: SYSTEM (if any) as the first message, then the chat."""
    msgs = ([{"Role": "system", "Content": system}] if system else []) + [
        {"Role": m.role, "Content": m.content} for m in turns
    ]
    return execute(template, {"Messages": msgs})


def _default_system(spec: RunSpec, tokenizer: Any, family: str) -> str | None:
    """The system prompt the template adds when a chat has none (the run's system_prompt, or
    the model's own default, e.g. SmolLM2's), read off a rendered chat."""
    if spec.template.system_prompt:
        return spec.template.system_prompt
    head, tail = GO_TEMPLATES[family][1]
    text = training_prompt(spec, tokenizer, [CHECK_TURNS[0]], None)
    text = text.removeprefix(runtime_bos(tokenizer))
    if not text.startswith(head):
        return None
    return text[len(head) :].split(tail, 1)[0]


def build_modelfile(
    spec: RunSpec, tokenizer: Any, source: str, adapter: str | None = None
) -> Modelfile:
    """The Modelfile text. `source` is FROM's argument (a GGUF file or a model folder);
    `adapter` an ADAPTER folder. ModelfileError when the template has no Go equivalent or
    the TEMPLATE would not render the training text."""
    family = template_family(spec, tokenizer)
    if family not in GO_TEMPLATES:
        raise ModelfileError(
            f"no Ollama TEMPLATE for template {spec.template.name!r} (family {family}): ftui "
            f"writes one for {', '.join(GO_TEMPLATES)}; write TEMPLATE yourself, matching the "
            "model card's template"
        )
    template = GO_TEMPLATES[family][0]
    system = _default_system(spec, tokenizer, family)
    for sys_prompt in (None, "Answer briefly."):
        want = training_prompt(spec, tokenizer, list(CHECK_TURNS), sys_prompt)
        got = runtime_bos(tokenizer) + ollama_prompt(
            template, list(CHECK_TURNS), sys_prompt or system
        )
        if got != want:
            at = next(
                (i for i, (a, b) in enumerate(zip(got, want, strict=False)) if a != b),
                min(len(got), len(want)),
            )
            raise ModelfileError(
                f"the Ollama TEMPLATE for {family} would not prompt like training (first "
                f"difference at character {at}: {got[at : at + 30]!r} vs {want[at : at + 30]!r}); "
                "no Modelfile written"
            )
    stops = end_of_turn_markers(spec, tokenizer)
    g = spec.generation
    lines = [f"FROM {source}"]
    if adapter:
        lines.append(f"ADAPTER {adapter}")
    lines.append(f'TEMPLATE """{template}"""')
    if system:
        lines.append(f'SYSTEM """{system}"""')
    lines += [f"PARAMETER stop {json.dumps(s)}" for s in stops]
    lines += [f"PARAMETER temperature {g.temperature}", f"PARAMETER num_predict {g.max_new_tokens}"]
    if g.temperature > 0:
        lines += [f"PARAMETER top_k {g.top_k}", f"PARAMETER top_p {g.top_p}"]
    return Modelfile("\n".join(lines) + "\n", template, system, stops)


def ollama_create_argv(name: str, modelfile_path: str) -> list[str]:
    return ["ollama", "create", name, "-f", modelfile_path]


def ollama_create_command(name: str, modelfile_path: str) -> str:
    return shlex.join(ollama_create_argv(name, modelfile_path))
