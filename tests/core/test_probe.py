"""The measured probe: real steps at max_seq_len, then batch size, accumulation and ETA."""

from __future__ import annotations

import json

import pytest
from conftest import run_ftui

from ftui.core.presets import resolve_spec
from ftui.core.probe import ProbeResult, advise, run_probe

GiB = 2**30


def _result(**kw) -> ProbeResult:
    base = dict(
        device="cuda",
        loaded_bytes=2 * GiB,
        peak_bytes=6 * GiB,
        batch=4,
        seq_len=1024,
        tokens_per_s=10_000.0,
        train_tokens=1_000_000,
        train_rows=1000,
    )
    base.update(kw)
    return ProbeResult(**base)


def test_advice_by_hand():
    # 1 GiB per row at 1024 tokens; 2 GiB loaded; 20 GiB free -> 0.9*20 - 2 = 16 rows fit.
    spec = resolve_spec(
        "demo", ["train.per_device_batch_size=4", "train.gradient_accumulation_steps=8"]
    )
    advice = advise(spec, _result(), free_bytes=20 * GiB, world_size=2)
    assert advice.fits and advice.batch == 16 and advice.accumulation == 2
    assert advice.effective_batch == 4 * 8 * 2  # the spec's effective batch is kept
    assert advice.eta_s == pytest.approx(1_000_000 * 30 / (10_000 * 2))  # demo: 30 epochs
    assert "train.per_device_batch_size=16" in advice.message


def test_advice_when_nothing_fits():
    spec = resolve_spec("demo")
    advice = advise(spec, _result(), free_bytes=2 * GiB)
    assert not advice.fits and "gradient_checkpointing" in advice.message


@pytest.mark.slow
def test_real_probe_on_the_demo(demo_model, tmp_path):
    spec = resolve_spec("demo", ["data.max_seq_len=64"])
    result = run_probe(spec, steps=2)
    assert result.device == "cpu" and result.seq_len == 64 and result.batch == 5
    assert result.peak_bytes >= result.loaded_bytes > 0
    assert result.tokens_per_s > 0 and result.train_rows == 100
    out = run_ftui("probe", "demo", "--steps", "1", "--json", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    advice = json.loads(out.stdout[out.stdout.index("{") :])["advice"]
    assert advice["fits"] and advice["batch"] >= 1
    assert not any(tmp_path.iterdir()), "the probe writes nothing where it is run"
