"""A small evaluator for the subset of Go's text/template that ftui's Ollama TEMPLATEs use.

Ollama renders a Modelfile's TEMPLATE with Go's text/template. ftui emits only: literal text,
`{{ .Field }}`, `{{ range .Field }} ... {{ end }}` and the trim markers `{{- ` / ` -}}` (which
eat the whitespace before / after the action, as Go does). Anything else is a GoTemplateError,
so a TEMPLATE that passes here uses nothing this evaluator does not check. The export renders
every TEMPLATE it writes through this and compares the text with the training template's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

ACTION = re.compile(r"\{\{(- )?\s*(.*?)\s*( -)?\}\}", re.S)
FIELD = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)")


class GoTemplateError(ValueError):
    pass


@dataclass
class _Node:
    kind: str  # text, field, range
    value: str
    body: list[_Node] = field(default_factory=list)


def _tokens(template: str) -> list[tuple[str, str]]:
    """(text, "") and (action, "action") pieces, trim markers applied to the neighbouring text."""
    out: list[tuple[str, str]] = []
    pos = 0
    trim_next = False
    for m in ACTION.finditer(template):
        text = template[pos : m.start()]
        if trim_next:
            text = text.lstrip()
        if m.group(1):
            text = text.rstrip()
        out.append((text, ""))
        out.append((m.group(2), "action"))
        trim_next = bool(m.group(3))
        pos = m.end()
    tail = template[pos:]
    out.append((tail.lstrip() if trim_next else tail, ""))
    if "{{" in "".join(t for t, kind in out if not kind):
        raise GoTemplateError("an unclosed or malformed {{ action")
    return out


def parse(template: str) -> list[_Node]:
    root: list[_Node] = []
    stack: list[list[_Node]] = [root]
    for text, kind in _tokens(template):
        if not kind:
            if text:
                stack[-1].append(_Node("text", text))
            continue
        words = text.split()
        if len(words) == 1 and FIELD.fullmatch(words[0]):
            stack[-1].append(_Node("field", words[0][1:]))
        elif len(words) == 2 and words[0] == "range" and FIELD.fullmatch(words[1]):
            node = _Node("range", words[1][1:])
            stack[-1].append(node)
            stack.append(node.body)
        elif words == ["end"]:
            if len(stack) == 1:
                raise GoTemplateError("{{ end }} without a range")
            stack.pop()
        else:
            raise GoTemplateError(f"unsupported action {{{{ {text} }}}}")
    if len(stack) != 1:
        raise GoTemplateError("a range without its {{ end }}")
    return root


def _lookup(dot: Any, name: str) -> Any:
    if isinstance(dot, dict) and name in dot:
        return dot[name]
    raise GoTemplateError(f"no field .{name} here")


def _run(nodes: list[_Node], dot: Any, out: list[str]) -> None:
    for node in nodes:
        if node.kind == "text":
            out.append(node.value)
        elif node.kind == "field":
            out.append(str(_lookup(dot, node.value)))
        else:
            for item in _lookup(dot, node.value) or []:
                _run(node.body, item, out)


def execute(template: str, data: dict[str, Any]) -> str:
    """The text Go's text/template would produce for `data` (a dict stands for the struct)."""
    out: list[str] = []
    _run(parse(template), data, out)
    return "".join(out)
