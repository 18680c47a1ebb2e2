"""Run status from the run directory plus a live-process check (pid + start time)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from fake_runs import T0, append_events, make_checkpoint, make_run  # noqa: E402

from ftui.core.runs.processes import process_start_time  # noqa: E402
from ftui.core.runs.status import (  # noqa: E402
    RunNotFound,
    find_run,
    is_stalled,
    list_runs,
    resolve_run_or_model,
    run_status,
    summarise_events,
)


@pytest.fixture
def sleeper():
    proc = subprocess.Popen(["sleep", "60"], start_new_session=True)
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def test_completed_run(tmp_path: Path) -> None:
    run = make_run(tmp_path, steps=40, total_steps=40, final="completed")
    info = run_status(run)
    assert (info.status, info.step, info.total_steps, info.live) == ("completed", 40, 40, False)
    assert info.started == T0 and info.updated is not None and info.updated > T0
    assert not info.resumable


def test_live_process_keeps_running_and_dead_one_fails(tmp_path: Path, sleeper) -> None:
    run = make_run(
        tmp_path, final=None, pid=sleeper.pid, pid_start_time=process_start_time(sleeper.pid)
    )
    info = run_status(run)
    assert (info.status, info.live) == ("running", True)
    sleeper.kill()
    sleeper.wait()
    info = run_status(run)
    assert (info.status, info.live) == ("failed", False)
    assert "exited without a final status" in info.reason and "logs/rank0.log" in info.reason


def test_reused_pid_is_not_the_run(tmp_path: Path, sleeper) -> None:
    start = process_start_time(sleeper.pid)
    assert start is not None
    run = make_run(tmp_path, final=None, pid=sleeper.pid, pid_start_time=start - 1)
    info = run_status(run)
    assert (info.status, info.live) == ("failed", False)


def test_stopped_with_complete_checkpoint_is_resumable(tmp_path: Path) -> None:
    run = make_run(tmp_path, steps=20, total_steps=40, final="stopped", checkpoints=(20,))
    assert run_status(run).resumable
    (run / "checkpoints" / "checkpoint-20" / "COMPLETE").unlink()
    info = run_status(run)
    assert info.status == "stopped" and not info.resumable
    assert (run / "checkpoints" / "checkpoint-20").is_dir()  # looking never renames


def test_failed_reason_kept(tmp_path: Path) -> None:
    run = make_run(tmp_path, final="failed", reason="non-finite loss at step 12")
    info = run_status(run)
    assert (info.status, info.reason) == ("failed", "non-finite loss at step 12")


def test_summary_reads_from_the_end_and_matches_a_full_read(tmp_path: Path) -> None:
    run = make_run(tmp_path, steps=5000, total_steps=6000, final=None)
    append_events(run, {"t": T0 + 9000, "type": "status", "status": "stopping"})
    summary = summarise_events(run)
    assert summary["status"]["status"] == "stopping"
    assert summary["metrics"]["step"] == 5000
    assert summary["plan"]["total_steps"] == 6000
    assert (summary["first_t"], summary["last_t"]) == (T0, T0 + 9000)


def test_list_runs_newest_first_and_find_run(tmp_path: Path) -> None:
    make_run(tmp_path, "demo-20261124-080000", t0=T0)
    make_run(tmp_path, "demo-20261124-090000", t0=T0 + 3600)
    make_run(tmp_path, "alpaca-20261124-100000", t0=T0 + 7200)
    (tmp_path / "not-a-run").mkdir()
    names = [r.name for r in list_runs(tmp_path)]
    assert names == ["alpaca-20261124-100000", "demo-20261124-090000", "demo-20261124-080000"]

    assert find_run("alpaca", tmp_path) == tmp_path / "alpaca-20261124-100000"
    assert find_run(tmp_path / "demo-20261124-080000", "/nonexistent") == (
        tmp_path / "demo-20261124-080000"
    )
    with pytest.raises(RunNotFound) as ambiguous:
        find_run("demo", tmp_path)
    assert "demo-20261124-080000" in str(ambiguous.value) and len(ambiguous.value.candidates) == 2
    with pytest.raises(RunNotFound) as missing:
        find_run("nope", tmp_path)
    assert "no such run 'nope'" in str(missing.value)
    assert "alpaca-20261124-100000" in str(missing.value)
    with pytest.raises(RunNotFound) as typo:
        find_run("dmeo", tmp_path)
    assert typo.value.candidates == ["demo-20261124-080000", "demo-20261124-090000"]
    assert "closest: demo-20261124-080000, demo-20261124-090000" in str(typo.value)
    under_root = tmp_path / "alp"  # `runs/alp`: a path under the root is looked up by name
    assert find_run(under_root, tmp_path) == tmp_path / "alpaca-20261124-100000"


def test_chat_target_is_a_run_a_path_or_a_model_reference(tmp_path: Path, monkeypatch) -> None:
    """`ftui chat TARGET`: the run resolver first; only what can be a hub id goes on."""
    make_run(tmp_path / "runs", "demo-20261124-080000")
    monkeypatch.chdir(tmp_path)
    root = Path("runs")
    assert resolve_run_or_model("demo", root) == root / "demo-20261124-080000"
    assert resolve_run_or_model("runs/demo-2026", root) == root / "demo-20261124-080000"
    assert resolve_run_or_model("HuggingFaceTB/SmolLM2-135M", root) == "HuggingFaceTB/SmolLM2-135M"
    assert resolve_run_or_model("builtin:demo-tiny-llama", root) == "builtin:demo-tiny-llama"
    (tmp_path / "model").mkdir()
    assert resolve_run_or_model("model", root) == Path("model")  # an existing local dir
    for path in ("runs/nope", "./nope", "/nope/x", "a/b/c", "m.gguf", "~/nope"):
        with pytest.raises(RunNotFound, match="no such run"):
            resolve_run_or_model(path, root)


def test_run_without_pid_or_events_is_unknown(tmp_path: Path) -> None:
    run = tmp_path / "x"
    run.mkdir()
    (run / "config.yaml").write_text("name: x\n")
    assert run_status(run).status == "unknown"


def test_stall_detection(tmp_path: Path, sleeper) -> None:
    run = make_run(
        tmp_path,
        final=None,
        steps=10,
        pid=sleeper.pid,
        pid_start_time=process_start_time(sleeper.pid),
    )
    from ftui.core.runs.events import read_events

    events = read_events(run)
    info = run_status(run, events=events)
    last = max(e["t"] for e in events if e["type"] == "metrics")
    assert not is_stalled(info, events, now=last + 30, after_s=60)
    assert is_stalled(info, events, now=last + 61, after_s=60)
    sleeper.kill()
    sleeper.wait()
    assert not is_stalled(run_status(run, events=events), events, now=last + 61, after_s=60)


def test_resumable_needs_a_complete_checkpoint_even_when_failed(tmp_path: Path) -> None:
    run = make_run(tmp_path, final="failed", reason="killed")
    assert not run_status(run).resumable
    make_checkpoint(run, 30)
    assert run_status(run).resumable


def test_fold_summary_matches_reading_from_the_end(tmp_path: Path) -> None:
    from ftui.core.runs.events import read_events
    from ftui.core.runs.status import fold_summary

    run = make_run(
        tmp_path,
        final="failed",
        extra_events=[{"t": T0 + 500, "type": "error", "kind": "oom", "message": "OOM"}],
    )
    events = read_events(run)
    folded: dict = {}
    for i in range(0, len(events), 7):  # in pieces, as a poller sees them
        fold_summary(folded, events[i : i + 7])
    assert folded == summarise_events(run)
    assert run_status(run, summary=folded) == run_status(run)


def test_a_resumed_run_is_starting_not_its_old_final_status(tmp_path: Path, sleeper) -> None:
    """Right after a resume the newest status event is the old attempt's `stopped`; while the
    new attempt's processes live that is history, not the run's status."""
    import json

    run = make_run(tmp_path, final="stopped", checkpoints=(20,), steps=20)
    info = json.loads((run / "run.json").read_text())
    info.update(
        pid=sleeper.pid,
        pid_start_time=process_start_time(sleeper.pid),
        attempts=[{"started": T0, "resume": False}, {"started": T0 + 10_000, "resume": True}],
    )
    (run / "run.json").write_text(json.dumps(info))
    status = run_status(run)
    assert status.live and status.status == "starting" and status.reason == ""
    info["attempts"] = info["attempts"][:1]  # the live process is the attempt that stopped
    (run / "run.json").write_text(json.dumps(info))
    assert run_status(run).status == "stopped"


def test_a_checkpoint_that_does_not_exist_lists_the_ones_that_do(tmp_path: Path) -> None:
    from ftui.core.playground.inference import InferenceError, run_weights_dir

    run = make_run(tmp_path, checkpoints=(20, 40))
    with pytest.raises(InferenceError) as missing:
        run_weights_dir(run, 7)
    assert "--checkpoint: 7 not found" in str(missing.value)
    assert "(checkpoints there: 20, 40)" in str(missing.value)


def test_the_model_card_rounds_the_last_loss(tmp_path: Path) -> None:
    from ftui.core.playground.export_card import model_card
    from ftui.core.spec import RunSpec

    run = make_run(
        tmp_path,
        extra_events=[{"t": T0 + 99, "type": "metrics", "step": 41, "loss": 6.497843933105469}],
    )
    card = model_card(RunSpec(), run, run / "final", merged=False)
    assert "41 / 6.498" in card and "6.4978439" not in card
