"""A custom template is str.format text: only plain {name} fields, so it cannot render Python
internals ({prompt.__class__.__mro__}) or a gigabyte ({prompt:>999999999}) into the training
text (issue 17, item 11)."""

from __future__ import annotations

import pytest

from ftui.core.prompt.check import check_custom
from ftui.core.prompt.templates import Conversation, Message, TemplateError, render
from ftui.core.spec import SpecError, TemplateSection, spec_from_dict

CONV = Conversation([Message("user", "Hi"), Message("assistant", "Hello")])
BAD = [
    "{prompt.__class__.__mro__}\n{response}",
    "{prompt[0]}\n{response}",
    "{prompt!r}\n{response}",
    "{prompt:>999999999}\n{response}",
    "{}\n{response}",
]


@pytest.mark.parametrize("custom", BAD)
def test_only_plain_fields_render(custom: str) -> None:
    field = custom.split("\n")[0]
    with pytest.raises(TemplateError) as err:
        render(TemplateSection(name="custom", custom=custom), CONV)
    msg = str(err.value)
    assert f"template.custom: field {field} is not allowed" in msg, msg
    assert "{prompt}, {input}, {system}, {response}" in msg
    assert check_custom(custom) == [msg]
    with pytest.raises(SpecError) as spec_err:
        spec_from_dict({"template": {"name": "custom", "custom": custom}})
    assert any(f"field {field} is not allowed" in p for p in spec_err.value.problems)


def test_plain_fields_and_escaped_braces_still_render() -> None:
    segs = render(TemplateSection(name="custom", custom="{{Q}} {prompt}\nA: {response}"), CONV)
    assert "".join(s.text for s in segs if "\x00" not in s.text) == "{Q} Hi\nA: Hello"
