"""Item 7: with HF_TOKEN (and the trackers' keys, and a notification URL) set to a sentinel, a full run (every pickle
included, every tracker's files: wandb's offline run, MLflow's db, trackio's store), a saved
preset, the logs and the command lines of the run's processes contain it nowhere. Tokens come only from
huggingface_hub's store or the environment; a token file readable by others is warned about."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import run_ftui

from ftui.core import locations
from ftui.core.check.preflight import PreflightReport, check_token_file
from ftui.core.runs.processes import run_is_live
from ftui.core.runs.rundir import RunPaths
from ftui.core.spec import SpecError, spec_from_dict

from .conftest import MLFLOW_USER, SENTINEL, TRACKERS, PtyRun

PICKLES = (".bin", ".pt", ".pth", ".pkl")


def _files_with(folder: Path, needle: bytes) -> list[str]:
    hits = []
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink() and needle in path.read_bytes():
            hits.append(str(path))
    return hits


def test_the_run_directory_never_holds_the_token(pty_run: PtyRun) -> None:
    assert pty_run.status.get("status") == "completed", pty_run.status
    run = pty_run.run_dir
    assert run is not None
    pickles = [p.name for p in run.rglob("*") if p.suffix in PICKLES]
    # training_args.bin, optimizer.pt, scheduler.pt and one rng state per rank were read too
    assert {"training_args.bin", "optimizer.pt", "rng_state_0.pth", "rng_state_1.pth"} <= set(
        pickles
    ), pickles
    assert _files_with(run, SENTINEL.encode()) == []
    assert _files_with(run, SENTINEL.encode("utf-16-le")) == []
    assert (run / "logs" / "rank0.log").stat().st_size > 0  # the logs were written and read
    # and every tracker's files: the run dir's, and trackio's store outside it
    paths = RunPaths(run)
    assert list(paths.tensorboard.rglob("events.out.tfevents.*"))
    if "wandb" in TRACKERS:
        assert list(paths.wandb.glob("offline-run-*/run-*.wandb"))
    if "mlflow" in TRACKERS:
        assert paths.mlflow_db.stat().st_size > 0
        assert _files_with(run, MLFLOW_USER.encode()) == [str(paths.mlflow_db)]  # the run's user
    if "trackio" in TRACKERS:
        assert (pty_run.trackio_dir / "ftui.db").stat().st_size > 0
        assert _files_with(pty_run.trackio_dir, SENTINEL.encode()) == []


def test_a_notification_url_stays_in_the_user_config(pty_run: PtyRun) -> None:
    """The token-run had a notification URL holding the sentinel (reliability/conftest.py): the
    supervisor tried it (its log says so, by number) and nothing of the run holds the URL."""
    assert pty_run.run_dir is not None
    home = pty_run.root.parent / "ftui-home"
    assert SENTINEL in (home / "config" / "notify.yaml").read_text()
    assert not run_is_live(pty_run.run_dir)  # it ended on its own (the fixture waited)
    log = (pty_run.run_dir / "logs" / "launcher.log").read_text()
    assert "completed notification not delivered: service 1 (JSON)" in log, log[-2000:]
    assert SENTINEL not in log


def test_no_process_of_the_run_has_the_token_on_its_command_line(pty_run: PtyRun) -> None:
    assert len(pty_run.processes) >= 4  # supervisor, torchrun, two ranks
    for pid, proc in pty_run.processes.items():
        assert SENTINEL not in " ".join(proc["cmdline"]), (pid, proc["cmdline"])
    assert SENTINEL not in pty_run.terminal_output


def test_no_process_of_an_offline_run_has_the_token_in_its_environment(pty_run: PtyRun) -> None:
    """The demo run needs no hub (builtin model, local data): the token is not passed on."""
    assert len(pty_run.processes) >= 4
    for pid, proc in pty_run.processes.items():
        assert not proc["token_in_env"], (pid, proc["cmdline"])


def test_hub_tokens_reach_only_a_run_that_needs_the_hub(monkeypatch: pytest.MonkeyPatch) -> None:
    from ftui.core.launch.spawn import HUB_TOKEN_VARS, child_env
    from ftui.core.presets import resolve_spec

    for name in HUB_TOKEN_VARS:
        monkeypatch.setenv(name, SENTINEL)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    demo = resolve_spec("demo", [])
    hub_model = resolve_spec("demo", ["model.name_or_path=HuggingFaceTB/SmolLM2-135M-Instruct"])
    hub_data = resolve_spec("demo", ["data.source=tatsu-lab/alpaca"])
    assert not set(HUB_TOKEN_VARS) & set(child_env(demo))
    assert all(child_env(hub_model)[name] == SENTINEL for name in HUB_TOKEN_VARS)
    assert child_env(hub_data)["HF_TOKEN"] == SENTINEL
    # trackio uploading to a Space (or a Hub bucket) logs in with the token; locally it does not
    trackio = resolve_spec("demo", ["train.report_to=trackio"])
    assert not set(HUB_TOKEN_VARS) & set(child_env(trackio))
    monkeypatch.setenv("TRACKIO_SPACE_ID", "me/board")
    assert child_env(trackio)["HF_TOKEN"] == SENTINEL
    assert not set(HUB_TOKEN_VARS) & set(child_env(demo))  # a run without trackio: no token
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # offline: nothing is downloaded, no token
    assert not set(HUB_TOKEN_VARS) & set(child_env(hub_model))
    assert not set(HUB_TOKEN_VARS) & set(child_env(trackio))


def test_a_saved_preset_never_holds_the_token(tmp_path: Path) -> None:
    out = run_ftui("presets", "save", "leak-check", "demo", env={"HF_TOKEN": SENTINEL})
    assert out.returncode == 0, out.stderr
    presets = locations.user_presets_dir()
    assert (presets / "leak-check.yaml").is_file()
    assert _files_with(presets, SENTINEL.encode()) == []


@pytest.mark.parametrize("key", ["token", "hub_token", "use_auth_token", "hf_token"])
def test_a_spec_has_no_place_for_a_token(key: str) -> None:
    for section in (None, "model", "data"):
        data = {key: "hf_x"} if section is None else {section: {key: "hf_x"}}
        with pytest.raises(SpecError, match="unknown key"):
            spec_from_dict(data)


def test_a_token_file_readable_by_others_is_warned_about(tmp_path: Path) -> None:
    home = tmp_path / "hf"
    home.mkdir()
    token = home / "token"
    token.write_text("hf_abc\n")
    os.chmod(token, 0o644)
    out = run_ftui("validate", "demo", env={"HF_HOME": str(home)})
    assert out.returncode == 0, out.stderr
    assert f"{token} is readable by other users" in out.stdout + out.stderr
    assert "hf_abc" not in out.stdout + out.stderr


def test_a_private_token_file_is_not_warned_about(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from huggingface_hub import constants

    token = tmp_path / "token"
    token.write_text("hf_abc\n")
    os.chmod(token, 0o600)
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(token))
    report = PreflightReport()
    check_token_file(report)
    assert report.warnings == []
    os.chmod(token, 0o640)
    check_token_file(report)
    assert len(report.warnings) == 1


def test_an_export_never_holds_the_token(pty_run: PtyRun, tmp_path: Path) -> None:
    """Adapter and merged exports of the token-run, made with the token in the environment."""
    assert pty_run.run_dir is not None
    for merge in ([], ["--merge"]):
        out_dir = tmp_path / f"export{'-merged' if merge else ''}"
        out = run_ftui(
            "export",
            str(pty_run.run_dir),
            *merge,
            "--out",
            str(out_dir),
            env={"HF_TOKEN": SENTINEL, "HF_HOME": str(pty_run.hf_home)},
        )
        assert out.returncode == 0, out.stderr
        assert any(out_dir.glob("*.safetensors")) and (out_dir / "README.md").is_file()
        assert _files_with(out_dir, SENTINEL.encode()) == []
        assert SENTINEL not in out.stdout + out.stderr
