"""Stop a 2-rank run mid-epoch (step >= 13 of 10-step epochs), resume it: it continues from the step after its checkpoint and
its losses equal those of the same run left alone (tolerance 1e-5 on CPU)."""

from __future__ import annotations

import time

import pytest
from conftest import _logs, wait_for_status  # noqa: I001

from ftui.core.launch.spawn import launch, request_stop, resume
from ftui.core.presets import resolve_spec
from ftui.core.runs.events import read_events

pytestmark = [pytest.mark.slow, pytest.mark.long]


def _losses(events: list[dict]) -> dict[int, float]:
    return {e["step"]: e["loss"] for e in events if e["type"] == "metrics"}


def test_stop_then_resume_matches_an_uninterrupted_run(tmp_path, demo_model):
    overrides = [
        f"output.root={tmp_path}",
        "train.max_steps=60",
        "train.logging_steps=1",
        "train.save_steps=5",
        "train.save_total_limit=3",
    ]
    straight = launch(resolve_spec("demo", overrides))
    assert wait_for_status(straight)["status"] == "completed", _logs(straight)
    reference = _losses(read_events(straight))

    run = launch(resolve_spec("demo", overrides))
    deadline = time.time() + 120
    while not any(e["type"] == "metrics" and e["step"] >= 13 for e in read_events(run)):
        assert time.time() < deadline
        time.sleep(0.05)
    assert request_stop(run)
    assert wait_for_status(run)["status"] == "stopped", _logs(run)
    first = read_events(run)
    stopped_at = max(e["step"] for e in first if e["type"] == "checkpoint")
    assert stopped_at < 60
    before = len(first)
    resume(run)
    deadline = time.time() + 240
    while not any(
        e["type"] == "status" and e["status"] in ("completed", "failed", "stopped")
        for e in read_events(run)[before:]
    ):
        assert time.time() < deadline, _logs(run)
        time.sleep(0.2)
    events = read_events(run)
    assert events[-1]["status"] == "completed", _logs(run)
    resumed_from = next(i for i, e in enumerate(events) if e["type"] == "resumed")
    after = _losses(events[resumed_from:])
    assert min(after) == stopped_at + 1, "continues from the step after the checkpoint"
    assert max(after) == 60
    for step, loss in after.items():
        assert loss == pytest.approx(reference[step], abs=1e-5), (step, loss, reference[step])
    for step, loss in _losses(first).items():
        assert loss == pytest.approx(reference[step], abs=1e-5), "same seed, same losses"
