"""Presets: every shipped one validates; names never leave their directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from ftui.core import locations
from ftui.core.presets import (
    find_preset,
    list_presets,
    remove_preset,
    resolve_spec,
    save_preset,
)
from ftui.core.spec import SpecError

BUILTIN = sorted(p.stem for p in locations.builtin_presets_dir().glob("*.yaml"))
WORKFLOWS = [
    "llama2-7b-full-wikitext",
    "llama2-13b-full",
    "llama31-8b-lora-xsum",
    "llama2-7b-full-alpaca",
    "llama2-7b-lora8bit-guanaco",
]


def test_all_expected_presets_ship():
    assert set(WORKFLOWS + ["demo"]) <= set(BUILTIN)


@pytest.mark.parametrize("name", BUILTIN)
def test_every_builtin_preset_validates_and_is_documented(name):
    spec = resolve_spec(name)
    assert spec.name == name
    text = find_preset(name).path.read_text()
    assert f"ftui run {name}" in text, "the header must show the exact command"
    commented = [line for line in text.splitlines() if "#" in line and ":" in line.split("#")[0]]
    assert len(commented) >= 4, "knobs carry short comments"


def test_xsum_preset_is_faithful():
    s = resolve_spec("llama31-8b-lora-xsum")
    assert (s.method.lora.r, s.method.lora.alpha, s.method.lora.target_modules) == (
        8,
        16,
        ["q_proj", "v_proj"],
    )
    assert s.data.split == "train[:2000]" and s.data.columns == {
        "prompt": "document",
        "response": "summary",
    }
    assert (s.train.per_device_batch_size, s.train.gradient_accumulation_steps) == (2, 32)
    assert (s.train.learning_rate, s.train.weight_decay, s.train.warmup_steps) == (3e-4, 0.01, 100)
    assert (s.generation.temperature, s.generation.top_k, s.generation.max_new_tokens) == (
        0.6,
        300,
        300,
    )


def test_user_preset_round_trip(tmp_path):
    spec = resolve_spec("demo", ["train.learning_rate=0.001"])
    path = save_preset("my-demo", spec)
    assert path.parent == locations.user_presets_dir()
    assert resolve_spec("my-demo") == spec
    assert "my-demo" in [p.name for p in list_presets()]
    remove_preset("my-demo")
    with pytest.raises(SpecError, match="not found"):
        resolve_spec("my-demo")


@pytest.mark.parametrize(
    "bad", ["../x", "/etc/passwd", "a/b", "x\x00y", "a" * 300, "..", ".hidden", ""]
)
def test_preset_names_cannot_escape(bad):
    with pytest.raises(SpecError):
        save_preset(bad, resolve_spec("demo"))


def test_builtin_names_cannot_be_overwritten_or_removed():
    with pytest.raises(SpecError, match="built in"):
        save_preset("demo", resolve_spec("demo"))
    with pytest.raises(SpecError, match="built in"):
        remove_preset("demo")


def test_planted_symlink_is_not_followed(tmp_path):
    target = tmp_path / "secret.yaml"
    target.write_text("name: stolen\n")
    d = locations.user_presets_dir()
    d.mkdir(parents=True, exist_ok=True)
    link = d / "evil.yaml"
    link.symlink_to(target)
    try:
        with pytest.raises(SpecError, match="symlink"):
            resolve_spec("evil")
        with pytest.raises(SpecError, match="symlink"):
            save_preset("evil", resolve_spec("demo"))
        assert target.read_text() == "name: stolen\n"
        assert "evil" not in [p.name for p in list_presets()]
    finally:
        link.unlink()


def test_unknown_preset_lists_the_known_ones():
    with pytest.raises(SpecError, match="demo"):
        resolve_spec("no-such-preset")


def test_spec_path_that_does_not_exist():
    with pytest.raises(SpecError, match="no such file"):
        resolve_spec(str(Path("/nonexistent/spec.yaml")))


def test_descriptions_are_whole_and_user_presets_have_one():
    from ftui.core.presets import description_header, list_presets, save_preset
    from ftui.core.spec import RunSpec

    infos = {p.name: p for p in list_presets()}
    for info in infos.values():  # each description ends a sentence, never mid-line
        assert info.summary.endswith("."), (info.name, info.summary)
    assert infos["llama2-7b-full-alpaca"].summary == (
        "full fine-tune of Llama-2-7B on alpaca with plain SGD and activation checkpointing in "
        "bf16: torchtune's low-memory full fine-tune recipe."
    )
    text = "LoRA on my support tickets (Kundentext → Antwort), 回答 kept short. " * 3
    save_preset("mine", RunSpec(), header=description_header("mine", text))
    save_preset("bare", RunSpec(), header="ftui run bare")  # as `ftui presets save` writes it
    infos = {p.name: p for p in list_presets()}
    assert infos["mine"].summary == " ".join(text.split())
    assert infos["bare"].summary == "lora of builtin:demo-tiny-llama on builtin:demo-qa"
