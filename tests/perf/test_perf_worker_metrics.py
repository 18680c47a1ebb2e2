"""The real worker (in-process, one rank) reports what its data path did: packing or not,
real tokens/s and padding efficiency."""

from __future__ import annotations

from pathlib import Path

import pytest

from .perf_helpers import make_spec


@pytest.mark.parametrize("packing", [False, True])
def test_worker_reports_packing_and_padding_efficiency(
    tiny_model: Path, rows_file: Path, tmp_path: Path, packing: bool
) -> None:
    from ftui.core.runs.events import EventWriter, read_events
    from ftui.core.runs.rundir import RunPaths
    from ftui.train.worker import train

    spec = make_spec(tiny_model, rows_file, max_steps=4, logging_steps=2)
    spec.data.packing = packing
    run = tmp_path / "run"
    run.mkdir()
    outcome = train(spec, RunPaths(run), EventWriter(run), resume=False)
    assert outcome["status"] == "completed"
    events = read_events(run)
    plan = next(e for e in events if e["type"] == "plan")
    assert plan["packing"] is packing
    assert plan["attn_implementation"] == "sdpa"
    assert plan["dtype"] == "fp32"  # make_spec states fp32
    metrics = [e for e in events if e["type"] == "metrics"]
    assert len(metrics) == 2
    assert all(m["tokens_per_s"] > 0 for m in metrics)
    effs = [m["padding_efficiency"] for m in metrics]
    if packing:
        assert effs == [1.0, 1.0]
    else:
        assert all(0.3 < e < 1.0 for e in effs)  # padded, but to each batch's longest row
