"""Launch from the Review step: preflight first; a failure refuses and jumps to the field to
fix; a pass starts the real detached run."""

from __future__ import annotations

from pathlib import Path

from ftui.tui import messages as m
from ftui.tui.screens.wizard.data import DataStepScreen
from ftui.tui.screens.wizard.review import ReviewScreen

from .wizard_helpers import make_app, settle


async def test_failed_preflight_refuses_and_opens_the_field(tmp_path: Path) -> None:
    seen: list[object] = []
    app = make_app(gpus=0, preset="demo", step="review")
    async with app.run_test(size=(120, 36), message_hook=seen.append) as pilot:
        await settle(pilot)
        app.apply_changes(
            {"data.source": str(tmp_path / "missing.jsonl"), "output.root": str(tmp_path / "runs")}
        )
        await pilot.press("ctrl+l")
        await settle(pilot)
        finished = [x for x in seen if isinstance(x, m.PreflightFinished)]
        assert finished and not finished[0].report.ok
        assert not any(isinstance(x, m.RunLaunched) for x in seen)
        assert isinstance(app.screen, DataStepScreen)
        assert app.screen.focus_field == finished[0].report.errors[0][0]
        assert not (tmp_path / "runs").exists()


async def test_launch_starts_a_real_run(tmp_path: Path) -> None:
    from ftui.core.launch.spawn import kill_run
    from ftui.core.runs.rundir import RunPaths

    seen: list[object] = []
    app = make_app(gpus=0, preset="demo", step="review")
    async with app.run_test(size=(120, 36), message_hook=seen.append) as pilot:
        await settle(pilot)
        app.apply_changes({"output.root": str(tmp_path / "runs"), "train.max_steps": 2})
        await pilot.press("ctrl+l")
        await settle(pilot)
        launched = [x for x in seen if isinstance(x, m.RunLaunched)]
        assert launched, [str(app.launch_state)]
        fetched = [x for x in seen if isinstance(x, m.ModelFetched)]
        assert fetched and fetched[0].path.is_dir()  # the built-in model needs no download
        run_dir = launched[0].run_dir
        try:
            paths = RunPaths(run_dir)
            assert paths.config.is_file() and paths.run_json.is_file()
            assert "train:\n" in paths.config.read_text()
            assert "max_steps: 2" in paths.config.read_text()
            assert run_dir.parent == tmp_path / "runs"
        finally:
            kill_run(run_dir, grace_s=2.0)
        if isinstance(app.screen, ReviewScreen):  # no monitor screen in this checkout
            assert str(run_dir) in str(app.screen.query_one("#launch-status").render())


async def test_check_runs_preflight_without_launching(tmp_path: Path) -> None:
    seen: list[object] = []
    app = make_app(gpus=0, preset="demo", step="review")
    async with app.run_test(size=(120, 36), message_hook=seen.append) as pilot:
        await settle(pilot)
        app.apply_changes({"output.root": str(tmp_path / "runs")})
        await pilot.press("ctrl+t")
        await settle(pilot)
        finished = [x for x in seen if isinstance(x, m.PreflightFinished)]
        assert finished and finished[0].report.ok, finished
        assert not any(isinstance(x, (m.ModelFetched, m.RunLaunched)) for x in seen)
        assert "Preflight passed" in str(app.screen.query_one("#launch-status").render())
        assert not (tmp_path / "runs").exists()


async def test_multi_node_review_shows_every_node_and_checks_the_rendezvous() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there: node 0 is not up yet
    app = make_app(gpus=0, preset="demo", step="review")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        app.apply_changes(
            {
                "launch.nnodes": 3,
                "launch.node_rank": 1,
                "launch.rdzv_endpoint": f"127.0.0.1:{port}",
            }
        )
        await settle(pilot)
        command = str(app.screen.query_one("#command").render())
        assert "# node 0 (hosts the rendezvous): run on that machine" in command
        assert "# node 1: this machine, Launch runs it" in command
        assert "# node 2: run on that machine" in command
        for rank in range(3):
            assert f"--node-rank={rank}" in command
        assert command.count(f"--rdzv-endpoint=127.0.0.1:{port}") == 3
        assert command.count("--rdzv-id=demo") == 3 and "--nnodes=3" in command
        assert "HF_HUB_OFFLINE=1" in command and "ftui command PRESET --slurm" in command
        assert "save this setup as a preset (ctrl+s)" in command  # the draft differs from demo
        assert "`ftui run PRESET --set launch.node_rank=N`" in command

        await pilot.press("ctrl+t")  # preflight: node 0 is not listening yet, a warning
        await settle(pilot)
        status = str(app.screen.query_one("#launch-status").render())
        assert f"! launch.rdzv_endpoint: rendezvous 127.0.0.1:{port}: nothing listens" in status
        assert "launch.rdzv_endpoint: launch.rdzv_endpoint" not in status
        assert "Preflight passed" in status


async def test_review_writes_a_slurm_script(tmp_path: Path) -> None:
    import subprocess

    from textual.widgets import Input

    from ftui.tui.screens.dialogs.slurm import SlurmDialog

    app = make_app(gpus=0, preset="demo", step="review")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+b")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, SlurmDialog)
        assert dialog.value("gpus") == "2" and dialog.value("nodes") == "1"  # from the spec
        dialog.query_one("#slurm-nodes", Input).value = "0"
        await pilot.press("enter")
        await pilot.pause()
        error = str(dialog.query_one("#slurm-error").render())
        assert "nodes: expected a whole number of at least 1, got '0'" in error
        dialog.query_one("#slurm-nodes", Input).value = "4"
        dialog.query_one("#slurm-partition", Input).value = "gpu"
        dialog.query_one("#slurm-path", Input).value = str(tmp_path / "job.sbatch")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen)
        assert "sbatch" in str(app.screen.query_one("#slurm-status").render())
    script = (tmp_path / "job.sbatch").read_text()
    assert "#SBATCH --nodes=4" in script and "#SBATCH --gpus-per-node=2" in script
    assert "#SBATCH --partition=gpu" in script and "name: demo" in script
    assert (tmp_path / "job.sbatch").stat().st_mode & 0o777 == 0o700
    assert subprocess.run(["bash", "-n", str(tmp_path / "job.sbatch")]).returncode == 0


async def test_a_refusal_is_dropped_once_the_spec_changes(tmp_path: Path) -> None:
    from ftui.tui.app import STALE_CHECK

    app = make_app(gpus=0, preset="demo", step="review")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        good = app.draft.get("data.source")
        app.apply_changes({"data.source": str(tmp_path / "missing.jsonl")})
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert app.launch_state.error == "Preflight refused the launch"
        assert isinstance(app.screen, DataStepScreen)  # opened on the field to fix
        app.apply_changes({"data.source": good})
        assert app.launch_state.value == STALE_CHECK and app.launch_state.error is None
        app.open_step("review")
        await settle(pilot)
        status = str(app.screen.query_one("#launch-status").render())
        assert "missing.jsonl" not in status and STALE_CHECK in status
