"""The measured probe: real steps at max_seq_len, then batch size, accumulation and ETA."""

from __future__ import annotations

import json

import pytest
from conftest import run_ftui

from ftui.core.check.probe import ProbeResult, advise, run_probe
from ftui.core.presets import resolve_spec

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
@pytest.mark.long
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


def test_fitting_batch_keeps_the_effective_batch_when_it_can():
    from ftui.core.check.probe import fitting_batch

    assert fitting_batch(32, 12) == 8  # 8 x 4 = 32 exactly, and 8 wastes less than half of 12
    assert fitting_batch(12, 5) == 4
    assert fitting_batch(7, 5) == 5  # only 1 divides 7 below 5: use what fits, accumulate 2
    assert fitting_batch(4, 100) == 4  # never more than one optimizer step's rows
    assert fitting_batch(4, 0) == 1


def test_advice_stays_below_a_batch_that_ran_out_of_memory():
    spec = resolve_spec(
        "demo", ["train.per_device_batch_size=8", "train.gradient_accumulation_steps=4"]
    )
    # 1 GiB per row measured at batch 4 after batch 8 ran out of memory; plenty of free memory
    result = _result(batch=4, peak_bytes=6 * GiB, oom_batches=[8])
    advice = advise(spec, result, free_bytes=100 * GiB)
    assert advice.batch == 4 and advice.accumulation == 8 and advice.effective_batch == 32
    assert "batch 8 ran out of memory" in advice.message


def test_advice_names_a_changed_effective_batch_and_sharding():
    spec = resolve_spec(
        "demo",
        ["train.per_device_batch_size=7", "launch.strategy=fsdp", "launch.nproc_per_node=2"],
    )
    advice = advise(spec, _result(), free_bytes=int((2 + 5) / 0.9 * GiB) + 1, world_size=2)
    assert advice.batch == 5 and advice.accumulation == 2
    assert "effective batch 20, the spec has 14" in advice.message
    assert "fsdp shards" in advice.message


def test_backoff_halves_the_batch_on_out_of_memory(capsys):
    import torch

    from ftui.train.probe import with_backoff

    tried = []

    def measure(n):
        tried.append(n)
        if n > 2:
            raise torch.OutOfMemoryError("CUDA out of memory")
        return [0.5]

    assert with_backoff(measure, 8) == (2, [0.5], [8, 4])
    assert tried == [8, 4, 2]
    assert "FTUI_PROBE_STAGE out of memory at batch 8: trying batch 4" in capsys.readouterr().out
    with pytest.raises(torch.OutOfMemoryError):
        with_backoff(lambda n: (_ for _ in ()).throw(torch.OutOfMemoryError("oom")), 2)


@pytest.mark.slow
def test_probe_reports_stages_and_can_be_cancelled(demo_model):
    import threading
    import time

    from ftui.core.check.probe import ProbeCancelled

    spec = resolve_spec("demo", ["data.max_seq_len=64"])
    stages = []
    result = run_probe(spec, steps=2, on_stage=stages.append)
    assert stages[0].startswith("reading") and "loading the model" in stages
    assert stages[-2:] == ["step 1/2 at batch 5 x 64 tokens", "step 2/2 at batch 5 x 64 tokens"]
    assert result.oom_batches == []

    cancel = threading.Event()
    start = time.monotonic()
    with pytest.raises(ProbeCancelled):
        run_probe(spec, steps=2, on_stage=lambda _: cancel.set(), cancel=cancel)
    assert time.monotonic() - start < 30
