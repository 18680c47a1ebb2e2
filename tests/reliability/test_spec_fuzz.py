"""Item 9: every RunSpec YAML text and every `--set` override either validates or fails with a
SpecError whose lines say what is wrong: never another exception, never a traceback."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import yaml
from conftest import run_ftui
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from ftui.core.spec import (
    RunSpec,
    SpecError,
    apply_overrides,
    load_yaml_text,
    spec_from_dict,
)


def _paths(model: type[BaseModel] = RunSpec, prefix: str = "") -> list[str]:
    out = []
    for name, field in model.model_fields.items():
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            out += _paths(ann, f"{prefix}{name}.")
        else:
            out.append(prefix + name)
    return out


FIELD_PATHS = _paths()
SECTIONS = sorted({p.split(".")[0] for p in FIELD_PATHS if "." in p})

leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.sampled_from(["auto", "lora", "qlora", "full", "4bit", "chatml", "custom", "1e-4"])
)
values = st.recursive(
    leaves,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def spec_dicts(draw: Any) -> dict[str, Any]:
    """Mostly-plausible specs: known paths with random values, plus stray keys."""
    data: dict[str, Any] = {}
    for path in draw(st.lists(st.sampled_from(FIELD_PATHS), max_size=8)):
        node = data
        parts = path.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {}) if isinstance(node.get(part, {}), dict) else {}
        node[parts[-1]] = draw(values)
    if draw(st.booleans()):
        data[draw(st.text(max_size=8) | st.sampled_from(SECTIONS))] = draw(values)
    return data


override_keys = st.sampled_from(FIELD_PATHS) | st.sampled_from(SECTIONS) | st.text(max_size=20)
RAW_SCALARS = [
    "", "[", "{a: 1", "!!python/object/apply:os.system [id]", "2020-02-30", "2020-13-01",
    "0x1F", "1e999", ".nan", "-.inf", "~", "[1, 2]", "{}", "&a [*a]", "*x", "1_000", "0o17",
    "yes", "no", "on", "12:30:00", "2001-12-14t21:59:43.10-05:00", "!!binary aGk=", "!!set {a}",
    "!!timestamp 2020-02-30", "!!float nope", "!!int 0xZZ", "<<: {a: 1}",
]  # fmt: skip
raw_scalars = st.sampled_from(RAW_SCALARS) | st.text(max_size=20)
override_values = (
    st.text(max_size=30)
    | raw_scalars
    | values.map(lambda v: yaml.safe_dump(v, default_flow_style=True).strip())
)
one_override = (
    st.tuples(st.sampled_from(FIELD_PATHS), raw_scalars).map(lambda kv: f"{kv[0]}={kv[1]}")
    | st.tuples(override_keys, override_values).map(lambda kv: f"{kv[0]}={kv[1]}")
    | st.text(max_size=30)
)
overrides = st.lists(one_override, max_size=4)


@st.composite
def raw_yaml(draw: Any) -> str:
    """YAML text written by hand: known fields with raw scalars the parser must build."""
    lines = []
    for path in draw(st.lists(st.sampled_from(FIELD_PATHS), max_size=6)):
        parts = path.split(".")
        indent = ""
        for part in parts[:-1]:
            lines.append(f"{indent}{part}:")
            indent += "  "
        lines.append(f"{indent}{parts[-1]}: {draw(raw_scalars)}")
    return "\n".join(lines) + "\n"


def _check(text: str, sets: list[str]) -> None:
    try:
        spec = spec_from_dict(apply_overrides(load_yaml_text(text, "spec"), sets))
    except SpecError as exc:
        assert exc.problems and all(isinstance(p, str) and p.strip() for p in exc.problems)
        assert "Traceback" not in str(exc)
        return
    # What validates round-trips through its own YAML unchanged.
    again = spec_from_dict(load_yaml_text(spec.to_yaml()))
    assert again == spec or _has_nan(spec)


def _has_nan(spec: RunSpec) -> bool:
    return any(
        isinstance(v, float) and math.isnan(v)
        for section in spec.model_dump().values()
        if isinstance(section, dict)
        for v in section.values()
    )


FUZZ = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(spec_dicts(), overrides)
def test_structured_specs_and_overrides_validate_or_say_why(data: dict, sets: list[str]) -> None:
    _check(yaml.safe_dump(data, allow_unicode=True), sets)


@FUZZ
@given(raw_yaml(), overrides)
def test_handwritten_yaml_validates_or_says_why(text: str, sets: list[str]) -> None:
    _check(text, sets)


@FUZZ
@given(st.text(max_size=200), overrides)
def test_any_text_validates_or_says_why(text: str, sets: list[str]) -> None:
    _check(text, sets)


NASTY = {
    "timestamp": "name: run\ntrain:\n  seed: 2020-02-30\n",
    "deep": "a: " + "[" * 2000 + "]" * 2000 + "\n",
    "billion-laughs": "a: &a [x, x, x, x, x, x, x, x, x]\n"
    + "".join(
        f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n"
        for p, c in zip("abcdefgh", "bcdefghi", strict=False)
    ),
    "binary": "model: !!binary aGVsbG8=\n",
    "tab": "name:\t\x00run\n",
    "set-tag": "model: !!set {a, b}\n",
    "merge": "<<: {name: x}\nmodel: {<<: [1]}\n",
    "huge-int": "train:\n  seed: " + "9" * 5000 + "\n",
}


def test_nasty_yaml_fails_with_a_message_through_the_cli(tmp_path: Path) -> None:
    for name, text in NASTY.items():
        path = tmp_path / f"{name}.yaml"
        path.write_text(text)
        out = run_ftui("validate", str(path), timeout=60)
        assert out.returncode == 2, (name, out.stdout, out.stderr)
        assert "Traceback" not in out.stderr and out.stderr.startswith("error: "), (
            name,
            out.stderr,
        )


def test_nasty_set_values_fail_with_a_message_through_the_cli() -> None:
    for bad in ("train.seed=2020-02-30", "=", "train..seed=1", "train.seed", "model=1", "a.b.c=1"):
        out = run_ftui("validate", "demo", "--set", bad, timeout=60)
        assert out.returncode == 2, (bad, out.stdout, out.stderr)
        assert "Traceback" not in out.stderr and out.stderr.startswith("error: "), (bad, out.stderr)
