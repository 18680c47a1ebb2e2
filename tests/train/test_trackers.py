"""train.report_to (issue 19): a real demo run reporting to TensorBoard writes its event files
into the run's tensorboard/, and the losses TensorBoard logged are ftui's events.jsonl losses;
preflight refuses a tracker that is not installed, naming the extra."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_ftui, wait_for_status

from ftui.core.launch.spawn import launch
from ftui.core.presets import resolve_spec
from ftui.core.runs.events import read_events
from ftui.core.runs.rundir import RunPaths


@pytest.mark.slow
def test_tensorboard_logs_the_losses_ftui_logs(tmp_path: Path, demo_model: Path) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    spec = resolve_spec(
        "demo",
        [
            f"output.root={tmp_path}",
            "train.report_to=tensorboard",
            "train.max_steps=6",
            "train.logging_steps=1",
            "launch.nproc_per_node=1",
        ],
    )
    run = launch(spec)
    assert wait_for_status(run)["status"] == "completed"
    files = list(RunPaths(run).tensorboard.rglob("events.out.tfevents.*"))
    assert files, sorted(p.name for p in run.iterdir())
    board = EventAccumulator(str(files[0].parent))
    board.Reload()
    logged = {s.step: s.value for s in board.Scalars("train/loss")}
    ours = {e["step"]: e["loss"] for e in read_events(run) if e["type"] == "metrics"}
    assert sorted(logged) == sorted(ours) == list(range(1, 7))
    for step, loss in ours.items():
        assert logged[step] == pytest.approx(loss, rel=1e-6)  # float32 in the event file


def test_preflight_names_the_extra_of_a_missing_tracker(tmp_path: Path) -> None:
    import importlib.util

    missing = [t for t in ("trackio", "wandb", "mlflow") if not importlib.util.find_spec(t)]
    if not missing:
        pytest.skip("every tracker is installed here")
    out = run_ftui("validate", "demo", "--set", f"train.report_to={missing[0]}")
    assert out.returncode == 2
    assert f"train.report_to: {missing[0]} is not installed: pip install 'ftui[{missing[0]}]'" in (
        out.stderr
    )
