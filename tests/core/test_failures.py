"""Failures explained: each known failure is recognised from events or logs with a fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from ftui.core.runs.failures import diagnose, failing_log, from_error_event, recognise_text

OOM_LOG = """Traceback (most recent call last):
  File "/x/ftui/train/__main__.py", line 40, in main
torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 79.1 GiB
"""


@pytest.mark.parametrize(
    ("text", "kind", "setting"),
    [
        (OOM_LOG, "oom", "train.per_device_batch_size"),
        ("RuntimeError: non-finite loss at step 212", "nonfinite_loss", "train.learning_rate"),
        (
            "ValueError: Column name ['instruction'] not in the dataset. Current columns: ['q']",
            "missing_column",
            "data.columns",
        ),
        (
            "huggingface_hub.errors.GatedRepoError: 401 Client Error. Cannot access gated repo",
            "gated_model",
            "model.name_or_path",
        ),
        ("OSError: [Errno 28] No space left on device", "disk_full", "output.root"),
        (
            "[E ProcessGroupNCCL.cpp:474] Watchdog caught collective operation timeout: "
            "WorkNCCL(SeqNum=12, OpType=ALLREDUCE) ran for 600000 ms before timing out.",
            "nccl_timeout",
            "launch.nproc_per_node",
        ),
    ],
)
def test_each_known_failure_is_recognised(text: str, kind: str, setting: str) -> None:
    failure = recognise_text(text)
    assert failure is not None
    assert (failure.kind, failure.setting) == (kind, setting)
    assert failure.message and failure.hint


def test_oom_hint_names_the_settings_to_change() -> None:
    failure = recognise_text(OOM_LOG)
    assert failure is not None
    for setting in ("per_device_batch_size", "gradient_checkpointing", "max_seq_len", "qlora"):
        assert setting in failure.hint


def test_nonfinite_loss_names_the_step() -> None:
    failure = recognise_text("non-finite loss at step 212")
    assert failure is not None and "step 212" in failure.message
    event = {"type": "error", "kind": "nonfinite_loss", "message": "loss is nan", "step": 37}
    from_event = from_error_event(event)
    assert from_event.kind == "nonfinite_loss" and "37" in from_event.message
    assert from_event.setting == "train.learning_rate"


def test_missing_column_names_the_column() -> None:
    failure = recognise_text("KeyError: 'instruction'")
    assert failure is not None and "'instruction'" in failure.message


def test_unrelated_text_is_not_a_failure() -> None:
    assert recognise_text("step 10 loss 2.1 lr 3e-4") is None


def test_error_event_keeps_worker_words_and_gains_a_hint() -> None:
    event = {"type": "error", "kind": "oom", "message": "CUDA out of memory on rank 1"}
    failure = from_error_event(event)
    assert failure.message == "CUDA out of memory on rank 1"
    assert "per_device_batch_size" in failure.hint
    assert failure.setting == "train.per_device_batch_size"


def test_unknown_error_kind_is_shown_as_is() -> None:
    event = {"type": "error", "kind": "weird", "message": "something odd", "hint": "try x"}
    failure = from_error_event(event)
    assert (failure.kind, failure.message, failure.hint, failure.setting) == (
        "weird",
        "something odd",
        "try x",
        None,
    )


def test_diagnose_prefers_error_event_then_reason_then_logs(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "rank0.log").write_text("step 1\nstep 2\n")
    (logs / "rank1.log").write_text(OOM_LOG)
    running = [{"type": "status", "status": "running"}]
    assert diagnose(running, tmp_path) is None  # not failed: the logs are not searched
    died = diagnose(running, tmp_path, failed=True)
    assert died is not None and died.kind == "oom"
    assert failing_log(tmp_path) == logs / "rank1.log"

    failed = [*running, {"type": "status", "status": "failed", "reason": "No space left on device"}]
    reason = diagnose(failed, tmp_path)
    assert reason is not None and reason.kind == "disk_full"

    with_error = [*failed, {"type": "error", "kind": "gated_model", "message": "401"}]
    error = diagnose(with_error, tmp_path)
    assert error is not None and error.kind == "gated_model"

    other = [{"type": "status", "status": "failed", "reason": "worker exited with code 3"}]
    (logs / "rank1.log").write_text("nothing known\n")
    plain = diagnose(other, tmp_path)
    assert plain is not None and plain.message == "worker exited with code 3"


# torchrun's summary in logs/launcher.log after `kill -9` of rank 1 (a real run's, trimmed).
TORCHRUN_RANK1_KILLED = """\
torch.distributed.elastic.multiprocessing.errors.ChildFailedError:
=======================================================
ftui.train FAILED
-------------------------------------------------------
Failures:
[1]:
  time      : 2026-12-01_13:11:07
  host      : localhost
  rank      : 0 (local_rank: 0)
  exitcode  : -15 (pid: 28816)  (SIGTERM)
  error_file: <N/A>
  traceback : Signal 15 (SIGTERM) received by PID 28816
-------------------------------------------------------
Root Cause (first observed failure):
[0]:
  time      : 2026-12-01_13:11:07
  host      : localhost
  rank      : 1 (local_rank: 1)
  exitcode  : -9 (pid: 28817)  (SIGKILL)
  error_file: <N/A>
  traceback : Signal 9 (SIGKILL) received by PID 28817
=======================================================
"""


def test_the_rank_a_signal_killed_is_named() -> None:
    from ftui.core.runs.failures import rank_killed

    death = rank_killed("noise\n" + TORCHRUN_RANK1_KILLED)
    assert death is not None and death.message == "rank 1 (pid 28817) was killed by SIGKILL"
    # The root cause listed first, and a rank that exited with an error code, never win over it.
    swapped = TORCHRUN_RANK1_KILLED.replace("-9 (pid: 28817)", "1 (pid: 28817)")
    only_term = rank_killed(swapped)
    assert only_term is not None and only_term.signal == "SIGTERM" and only_term.rank == 0
    assert rank_killed("RuntimeError: Connection reset by peer\n") is None
