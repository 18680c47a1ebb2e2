"""Item 8: untrusted input. YAML tags that would run code are rejected (spec files, presets,
--set); preset and run names cannot leave their directory; trust_remote_code stays false unless
the spec sets it with a pinned revision; weights load from safetensors only and every torch.load
uses weights_only; chat templates render in transformers' jinja sandbox."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import run_ftui

from ftui.core import locations
from ftui.core.presets import find_preset, resolve_spec, save_preset
from ftui.core.spec import SpecError, load_spec_file, spec_from_dict

REPO = Path(__file__).resolve().parents[2]


def _evil_yaml(marker: Path) -> str:
    return (
        "name: evil\n"
        f'model: !!python/object/apply:os.system ["touch {marker}"]\n'
        f"data: !!python/object/new:subprocess.Popen [[touch, {marker}]]\n"
    )


def test_a_spec_file_with_code_tags_is_rejected(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    spec = tmp_path / "evil.yaml"
    spec.write_text(_evil_yaml(marker))
    with pytest.raises(SpecError, match="not valid YAML"):
        load_spec_file(spec)
    out = run_ftui("validate", str(spec))
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr
    assert not marker.exists()


def test_a_preset_with_code_tags_is_rejected(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    folder = locations.user_presets_dir()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "evil-tags.yaml").write_text(_evil_yaml(marker))
    try:
        with pytest.raises(SpecError, match="not valid YAML"):
            resolve_spec("evil-tags")
    finally:
        (folder / "evil-tags.yaml").unlink()
    assert not marker.exists()


def test_a_set_value_with_a_code_tag_is_only_text(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    tag = f'!!python/object/apply:os.system ["touch {marker}"]'
    spec = resolve_spec("demo", [f"template.system_prompt={tag}"])
    assert spec.template.system_prompt == tag  # kept as the literal text it is
    with pytest.raises(SpecError):
        resolve_spec("demo", [f"train.seed={tag}"])
    assert not marker.exists()


BAD_NAMES = ["../x", "../../etc/passwd", "/tmp/abs", "a/b", "a\x00b", "x" * 300, "..", ".", ""]


@pytest.mark.parametrize("name", BAD_NAMES, ids=lambda n: repr(n)[:20])
def test_run_names_cannot_leave_the_runs_dir(name: str, tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="^name:"):
        spec_from_dict({"name": name, "output": {"root": str(tmp_path)}})
    with pytest.raises(SpecError):
        resolve_spec("demo", [f"name={name}"])


@pytest.mark.parametrize("name", BAD_NAMES, ids=lambda n: repr(n)[:20])
def test_preset_names_cannot_leave_the_presets_dir(name: str) -> None:
    spec = resolve_spec("demo")
    with pytest.raises(SpecError):
        save_preset(name, spec)
    with pytest.raises(SpecError):
        find_preset(name)


def test_a_planted_preset_symlink_is_not_followed(tmp_path: Path) -> None:
    secret = tmp_path / "secret.yaml"
    secret.write_text("name: secret\n")
    folder = locations.user_presets_dir()
    folder.mkdir(parents=True, exist_ok=True)
    link = folder / "planted.yaml"
    link.symlink_to(secret)
    try:
        with pytest.raises(SpecError, match="symlink"):
            save_preset("planted", resolve_spec("demo"))
        with pytest.raises(SpecError, match="symlink"):
            resolve_spec("planted")
    finally:
        link.unlink()
    assert secret.read_text() == "name: secret\n"


# -- trust_remote_code ---------------------------------------------------------------------


class _Spy:
    """Records the keyword arguments of every from_pretrained call, then calls the real one."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import transformers

        self.calls: list[tuple[str, dict[str, Any]]] = []
        for cls in (transformers.AutoModelForCausalLM, transformers.AutoTokenizer):
            real = cls.from_pretrained.__func__

            def spy(klass, *args, _real=real, _name=cls.__name__, **kwargs):  # type: ignore[no-untyped-def]
                self.calls.append((_name, kwargs))
                return _real(klass, *args, **kwargs)

            monkeypatch.setattr(cls, "from_pretrained", classmethod(spy))


def test_trust_remote_code_is_never_passed_true_by_default(
    demo_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ftui.core.playground.inference import load_chat_model
    from ftui.core.runs.rundir import RunPaths
    from ftui.train.build import build_model, build_tokenizer, build_training_args

    spy = _Spy(monkeypatch)
    load_chat_model(demo_run)
    spec = resolve_spec("demo", [f"output.root={tmp_path}", "launch.nproc_per_node=1"])
    build_tokenizer(spec)
    build_model(spec, build_training_args(spec, RunPaths(tmp_path)))
    assert {name for name, _ in spy.calls} == {"AutoModelForCausalLM", "AutoTokenizer"}
    for name, kwargs in spy.calls:
        assert kwargs.get("trust_remote_code", False) is False, (name, kwargs)


def test_trust_remote_code_needs_a_pinned_revision() -> None:
    with pytest.raises(SpecError, match="model.trust_remote_code"):
        resolve_spec("demo", ["model.trust_remote_code=true"])
    spec = resolve_spec("demo", ["model.trust_remote_code=true", "model.revision=0123abc"])
    assert spec.model.trust_remote_code and spec.model.revision == "0123abc"


def test_no_source_hardcodes_trust_remote_code_true() -> None:
    hits = [
        str(p.relative_to(REPO))
        for p in (REPO / "ftui").rglob("*.py")
        if re.search(r"trust_remote_code\s*=\s*True", p.read_text())
    ]
    assert hits == []


# -- safetensors only, torch.load(weights_only=True) ---------------------------------------


@pytest.fixture(scope="module")
def pickled_model(tmp_path_factory: pytest.TempPathFactory, demo_model: Path) -> Path:
    """The demo model with its weights as a pickled pytorch_model.bin instead of safetensors."""
    import shutil

    import torch
    from safetensors.torch import load_file

    path = tmp_path_factory.mktemp("pickled") / "model"
    shutil.copytree(demo_model, path)
    state = load_file(str(path / "model.safetensors"))
    (path / "model.safetensors").unlink()
    torch.save(state, path / "pytorch_model.bin")
    return path


def test_a_pickled_only_model_is_refused_with_a_clear_error(pickled_model: Path) -> None:
    from ftui.core.check.preflight import preflight
    from ftui.core.playground.inference import load_chat_model
    from ftui.core.safe_load import UnsafeWeightsError

    spec = resolve_spec("demo", [f"model.name_or_path={pickled_model}"])
    report = preflight(spec)
    assert not report.ok
    assert any("only pickled" in m and "safetensors" in m for _, m in report.errors), report.errors
    with pytest.raises(UnsafeWeightsError, match="safetensors only"):
        load_chat_model(pickled_model)


def test_the_worker_refuses_pickled_weights(pickled_model: Path, tmp_path: Path) -> None:
    from ftui.core.runs.rundir import RunPaths
    from ftui.core.safe_load import UnsafeWeightsError
    from ftui.train.build import build_model, build_training_args

    spec = resolve_spec("demo", [f"model.name_or_path={pickled_model}", f"output.root={tmp_path}"])
    with pytest.raises(UnsafeWeightsError):
        build_model(spec, build_training_args(spec, RunPaths(tmp_path)))


def _calls(source: str, name: str) -> list[str]:
    """The full text of every call to `name(` in source (balanced parentheses)."""
    out = []
    for match in re.finditer(re.escape(name) + r"\(", source):
        depth, i = 1, match.end()
        while depth and i < len(source):
            depth += {"(": 1, ")": -1}.get(source[i], 0)
            i += 1
        out.append(source[match.start() : i])
    return out


def test_every_torch_load_uses_weights_only() -> None:
    import transformers

    sources = list((REPO / "ftui").rglob("*.py"))
    # The Trainer loads optimizer, scheduler and RNG state on resume: check that path too.
    sources.append(Path(transformers.__file__).parent / "trainer.py")
    bad = []
    for path in sources:
        for call in _calls(path.read_text(), "torch.load"):
            if "weights_only=True" not in call:
                bad.append(f"{path}: {call[:120]}")
    assert bad == []


def test_every_model_load_goes_through_safe_load() -> None:
    bad = []
    for path in (REPO / "ftui").rglob("*.py"):
        if path.name in (
            "safe_load.py",
            "export_card.py",
        ):  # export_card: a usage example in the card text
            continue
        text = path.read_text()
        for call in _calls(text, "ForCausalLM.from_pretrained"):
            bad.append(f"{path.relative_to(REPO)}: {call[:100]}")
    assert bad == []


# -- chat templates in the sandbox ---------------------------------------------------------

EVIL_TEMPLATE = (
    "{% for m in messages %}{{ ''.__class__.__mro__[1].__subclasses__() }}"
    "{{ m['content'] }}{% endfor %}"
)


def test_a_malicious_chat_template_is_stopped_by_the_sandbox(tmp_path: Path) -> None:
    import jinja2
    from transformers import AutoTokenizer

    from ftui.core.demo import build_tiny_model
    from ftui.core.prompt.templates import Conversation, Message, TemplateError, render

    # Outside a sandbox this template walks to every class in the interpreter.
    plain = jinja2.Environment().from_string(EVIL_TEMPLATE)
    assert "<class" in plain.render(messages=[{"content": "hi"}])

    path = build_tiny_model(tmp_path / "evil", chat_template=EVIL_TEMPLATE)
    tokenizer = AutoTokenizer.from_pretrained(path)
    spec = resolve_spec("demo", [f"model.name_or_path={path}", "template.name=tokenizer"])
    conv = Conversation([Message("user", "hi"), Message("assistant", "hello")])
    with pytest.raises(TemplateError, match="security error.*__class__"):
        render(spec.template, conv, tokenizer)
    with pytest.raises(TemplateError, match="security error"):
        render(spec.template, conv, tokenizer, gen=True)


def test_preflight_reports_a_malicious_chat_template(tmp_path: Path, demo_model: Path) -> None:
    from ftui.core.check.preflight import preflight
    from ftui.core.demo import build_tiny_model

    path = build_tiny_model(tmp_path / "evil", chat_template=EVIL_TEMPLATE)
    spec = resolve_spec("demo", [f"model.name_or_path={path}", "template.name=tokenizer"])
    report = preflight(spec)
    assert any("security error" in m for _, m in report.errors), report.errors
    assert os.listdir(tmp_path / "evil")  # the model itself was fine to read
