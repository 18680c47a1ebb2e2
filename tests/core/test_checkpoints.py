"""Checkpoint completeness: a cut-short checkpoint is detected, set aside by name, never used."""

from __future__ import annotations

import json
from pathlib import Path

from fake_runs import make_checkpoint, write_safetensors  # noqa: E402

from ftui.core.runs.checkpoints import (  # noqa: E402
    checkpoint_problem,
    newest_complete_checkpoint,
)


def test_complete_checkpoint_passes(tmp_path: Path) -> None:
    ckpt = make_checkpoint(tmp_path, 10)
    assert checkpoint_problem(ckpt) is None


def test_real_torch_save_and_safetensors_pass(tmp_path: Path) -> None:
    import torch
    from safetensors.torch import save_file

    ckpt = tmp_path / "checkpoints" / "checkpoint-3"
    ckpt.mkdir(parents=True)
    torch.save({"state": torch.ones(3)}, ckpt / "optimizer.pt")
    save_file({"a": torch.zeros(2, 3), "b": torch.ones(5)}, str(ckpt / "model.safetensors"))
    (ckpt / "COMPLETE").write_text("")
    assert checkpoint_problem(ckpt) is None


def test_missing_marker(tmp_path: Path) -> None:
    ckpt = make_checkpoint(tmp_path, 10, complete=False)
    assert checkpoint_problem(ckpt) == "no-complete-marker"


def test_truncated_json(tmp_path: Path) -> None:
    ckpt = make_checkpoint(tmp_path, 10)
    state = ckpt / "trainer_state.json"
    state.write_text(json.dumps({"global_step": 10, "log_history": [1, 2, 3]})[:-7])
    assert checkpoint_problem(ckpt) == "truncated-json"


def test_zero_byte_weights(tmp_path: Path) -> None:
    ckpt = make_checkpoint(tmp_path, 10)
    (ckpt / "adapter_model.safetensors").write_bytes(b"")
    assert checkpoint_problem(ckpt) == "empty-weights"
    ckpt2 = make_checkpoint(tmp_path, 20)
    (ckpt2 / "optimizer.pt").write_bytes(b"")
    assert checkpoint_problem(ckpt2) == "empty-weights"


def test_truncated_safetensors_and_zip(tmp_path: Path) -> None:
    ckpt = make_checkpoint(tmp_path, 10)
    weights = ckpt / "adapter_model.safetensors"
    write_safetensors(weights, n_floats=64)
    weights.write_bytes(weights.read_bytes()[:-16])  # data cut short, header intact
    assert checkpoint_problem(ckpt) == "truncated-safetensors"

    ckpt2 = make_checkpoint(tmp_path, 20)
    opt = ckpt2 / "optimizer.pt"
    opt.write_bytes(opt.read_bytes()[:-30])  # central directory cut off
    assert checkpoint_problem(ckpt2) == "truncated-torch-file"


def test_partial_directory_is_set_aside_and_older_complete_used(tmp_path: Path) -> None:
    make_checkpoint(tmp_path, 10)
    partial = tmp_path / "checkpoints" / "checkpoint-20"
    partial.mkdir(parents=True)
    (partial / "adapter_config.json").write_text("{}")  # a save cut short: no marker, no weights
    broken = make_checkpoint(tmp_path, 30)
    (broken / "trainer_state.json").write_text('{"global_st')

    found = newest_complete_checkpoint(tmp_path)

    assert found == tmp_path / "checkpoints" / "checkpoint-10"
    names = sorted(p.name for p in (tmp_path / "checkpoints").iterdir())
    assert names == [
        "checkpoint-10",
        "checkpoint-20.incomplete-no-complete-marker",
        "checkpoint-30.incomplete-truncated-json",
    ]
    # set aside, never deleted: the files are still there
    kept = tmp_path / "checkpoints" / "checkpoint-30.incomplete-truncated-json"
    assert (kept / "adapter_model.safetensors").is_file()


def test_look_only_mode_renames_nothing(tmp_path: Path) -> None:
    make_checkpoint(tmp_path, 10)
    make_checkpoint(tmp_path, 20, complete=False)  # maybe being written right now
    found = newest_complete_checkpoint(tmp_path, set_aside_incomplete=False)
    assert found is not None and found.name == "checkpoint-10"
    assert (tmp_path / "checkpoints" / "checkpoint-20").is_dir()


def test_no_checkpoint_at_all(tmp_path: Path) -> None:
    assert newest_complete_checkpoint(tmp_path) is None


def test_marker_listing_files_catches_a_missing_or_changed_file(tmp_path: Path) -> None:
    from ftui.train.callbacks import mark_complete

    ckpt = make_checkpoint(tmp_path, 10, complete=False)
    mark_complete(ckpt, 10)  # the worker's own marker: every file with its size
    assert checkpoint_problem(ckpt) is None
    (ckpt / "rng_state_0.pth").unlink()
    assert checkpoint_problem(ckpt) == "missing-file"

    ckpt2 = make_checkpoint(tmp_path, 20, complete=False)
    mark_complete(ckpt2, 20)
    with open(ckpt2 / "adapter_config.json", "a") as fh:
        fh.write("  ")  # still valid JSON, but not what was saved
    assert checkpoint_problem(ckpt2) == "file-size-changed"
    (ckpt2 / "COMPLETE").write_text("{not json")
    assert checkpoint_problem(ckpt2) == "bad-complete-marker"
