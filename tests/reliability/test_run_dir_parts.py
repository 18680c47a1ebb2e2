"""Issue 17, items 3, 5, 6, 7: final/ counts only when its completeness marker (written last) is
there, every weights choice is checked by one function (runs/checkpoints.run_weights), run-dir
parts that are symbolic links out of the run are refused, output.root must be a folder the user
may write (never a system directory), and every file of a run is private."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import pytest
from conftest import run_ftui

from ftui.core.check.preflight import output_root_problem
from ftui.core.launch.spawn import LaunchError, resume
from ftui.core.playground.compare import adapter_sources
from ftui.core.runs.checkpoints import (
    WeightsNotReady,
    checkpoint_is_complete,
    list_checkpoints,
    run_weights,
)
from ftui.core.runs.processes import run_is_live
from ftui.core.runs.rundir import checkpoint_step, read_run_json

from .reltools import copy_run


def _cut_final(demo: Path, dest: Path) -> Path:
    """A copy of the demo run whose final/ save was cut short: only README.md was written."""
    run = copy_run(demo, dest)
    for f in (run / "final").iterdir():
        if f.name != "README.md":
            f.unlink()
    return run


def test_the_worker_marks_final_complete_last(demo: Path) -> None:
    marker = json.loads((demo / "final" / "COMPLETE").read_text())
    assert "adapter_model.safetensors" in marker["files"]
    assert marker["resume_key"] == read_run_json(demo)["resume_key"]
    assert checkpoint_is_complete(demo / "final")
    assert run_weights(demo) == demo / "final"


def test_an_incomplete_final_is_refused_naming_the_newest_checkpoint(
    demo: Path, tmp_path: Path
) -> None:
    run = _cut_final(demo, tmp_path / "run")
    newest = checkpoint_step(list_checkpoints(run)[0])
    with pytest.raises(WeightsNotReady) as err:
        run_weights(run)
    assert "final/ is incomplete" in str(err.value)
    assert f"use --checkpoint {newest}" in str(err.value)
    assert run_weights(run, newest) == run / "checkpoints" / f"checkpoint-{newest}"
    assert all(s.step is not None for s in adapter_sources(run))  # final/ is not offered
    out = run_ftui("export", str(run), "--out", str(tmp_path / "out"))
    assert out.returncode != 0 and "exported" not in out.stdout
    assert "final/ is incomplete" in out.stderr and f"--checkpoint {newest}" in out.stderr
    assert not (tmp_path / "out").exists()
    out = run_ftui("chat", str(run), "--prompt", "What is the capital of France?")
    assert out.returncode != 0 and "final/ is incomplete" in out.stderr, out.stderr
    assert "Traceback" not in out.stderr


def test_the_playground_refuses_an_incomplete_final(demo: Path, tmp_path: Path) -> None:
    from ftui.tui.playground_model import load_playground_model

    run = _cut_final(demo, tmp_path / "run")
    with pytest.raises(WeightsNotReady, match="final/ is incomplete"):
        load_playground_model(run, None, "cpu", lambda label, fraction: None)


def test_an_incomplete_checkpoint_asked_for_is_refused(demo: Path, tmp_path: Path) -> None:
    run = copy_run(demo, tmp_path / "run")
    newest, older = list_checkpoints(run)[:2]
    (older / "COMPLETE").unlink()
    step = checkpoint_step(older)
    with pytest.raises(WeightsNotReady) as err:
        run_weights(run, step)
    assert f"checkpoint-{step} is incomplete" in str(err.value)
    assert f"use --checkpoint {checkpoint_step(newest)}" in str(err.value)
    out = run_ftui("export", str(run), "--checkpoint", str(step), "--out", str(tmp_path / "o"))
    assert out.returncode != 0 and f"checkpoint-{step} is incomplete" in out.stderr


def test_a_checkpoints_symlink_out_of_the_run_is_refused(killed_run: Path, tmp_path: Path) -> None:
    run = copy_run(killed_run, tmp_path / "run")
    elsewhere = tmp_path / "elsewhere"
    shutil.move(run / "checkpoints", elsewhere)
    (run / "checkpoints").symlink_to(elsewhere)
    names = sorted(p.name for p in elsewhere.iterdir())
    config = (run / "config.yaml").read_bytes()
    with pytest.raises(LaunchError, match="checkpoints -> .*leads out of the run directory"):
        resume(run)
    assert sorted(p.name for p in elsewhere.iterdir()) == names  # nothing renamed, nothing new
    assert (run / "config.yaml").read_bytes() == config and not run_is_live(run)


def test_a_final_symlink_out_of_the_run_is_refused(demo: Path, tmp_path: Path) -> None:
    run = copy_run(demo, tmp_path / "run")
    shutil.move(run / "final", tmp_path / "other-final")
    (run / "final").symlink_to(tmp_path / "other-final")
    with pytest.raises(WeightsNotReady, match="symbolic link out of the run directory"):
        run_weights(run)


@pytest.mark.parametrize("root", ["/", "/etc", "/usr", "/usr/local/runs", "/proc/self", "/var"])
def test_output_root_refuses_system_directories(root: str) -> None:
    problem = output_root_problem(Path(root))
    assert problem is not None and "is a system directory" in problem, problem


def test_output_root_must_be_a_writable_folder(tmp_path: Path) -> None:
    a_file = tmp_path / "runs"
    a_file.write_text("x")
    assert "is a file, not a directory" in (output_root_problem(a_file) or "")
    assert "cannot be created" in (output_root_problem(a_file / "below") or "")
    link = tmp_path / "link"
    link.symlink_to("/etc")
    assert "is a system directory" in (output_root_problem(link) or "")
    assert output_root_problem(tmp_path / "new" / "runs") is None
    assert output_root_problem(tmp_path) is None


def test_validate_refuses_a_system_output_root() -> None:
    out = run_ftui("validate", "demo", "--set", "output.root=/etc")
    assert out.returncode == 2
    assert "output.root: /etc is a system directory" in out.stderr
    assert "Traceback" not in out.stderr


def _loose(run: Path) -> list[str]:
    found = []
    for path in [run, *run.rglob("*")]:
        mode = path.lstat().st_mode
        if not stat.S_ISLNK(mode) and mode & 0o077:
            found.append(f"{path.relative_to(run)} {oct(mode & 0o777)}")
    return found


def test_every_file_of_a_run_is_private(demo: Path) -> None:
    names = {p.name for p in demo.rglob("*")}
    assert {"events.jsonl", "launcher.log", "rank0.log", "COMPLETE", "optimizer.pt"} <= names
    assert (demo / "final").is_dir() and any((demo / "checkpoints").iterdir())
    assert _loose(demo) == []
    assert os.stat(demo).st_mode & 0o777 == 0o700
