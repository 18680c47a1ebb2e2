"""Item 1: training outlives the app, its terminal and the process that launched it; its output never
goes through a pipe; no process of the run reads the terminal (stdin is /dev/null), so keys
typed in the app all reach the app."""

from __future__ import annotations

import os
from pathlib import Path

from conftest import wait_for_status

from ftui.core.runs.processes import run_is_live

from .conftest import PtyRun
from .reltools import demo_spec


def test_run_completes_after_its_terminal_and_launcher_are_gone(pty_run: PtyRun) -> None:
    assert pty_run.live_when_closed, "the terminal must close while the run is still going"
    assert pty_run.launcher_exit is not None, "closing the terminal must end the launcher"
    assert os.WIFSIGNALED(pty_run.launcher_exit) or os.WEXITSTATUS(pty_run.launcher_exit) != 0
    assert pty_run.status.get("status") == "completed", pty_run.status
    assert pty_run.run_dir is not None and (pty_run.run_dir / "final").is_dir()


def test_children_never_read_the_terminal(pty_run: PtyRun) -> None:
    for pid, proc in pty_run.processes.items():
        assert proc["fds"][0] == "/dev/null", (pid, proc["cmdline"], proc["fds"])


def test_output_goes_to_files_never_a_pipe(pty_run: PtyRun) -> None:
    assert pty_run.run_dir is not None
    logs = str(pty_run.run_dir / "logs")
    kinds = {"supervisor": 0, "torchrun": 0, "rank": 0}
    for pid, proc in pty_run.processes.items():
        for fd in (1, 2):
            target = proc["fds"][fd]
            assert not target.startswith(("pipe:", "socket:", "/dev/pts", "/dev/tty")), (
                pid,
                proc["cmdline"],
                proc["fds"],
            )
            assert target.startswith(logs), (pid, proc["cmdline"], proc["fds"])
        cmd = " ".join(proc["cmdline"])
        if "ftui.core.launch.supervisor" in cmd:
            kinds["supervisor"] += 1
        elif "torch.distributed.run" in cmd or "torchrun" in cmd:
            kinds["torchrun"] += 1
        elif "ftui.train" in proc["cmdline"]:
            kinds["rank"] += 1
            assert "/logs/rank" in proc["fds"][1]
    assert kinds["supervisor"] >= 1 and kinds["rank"] >= 2, (kinds, pty_run.processes)


async def test_quitting_the_app_right_after_launch_never_stops_the_run(
    tmp_path: Path, demo_model: Path
) -> None:
    """Launch from the wizard (preflight, then launch, as the Launch button does), quit the app
    at once, and the run still completes."""
    from ftui.tui import messages as m
    from ftui.tui.app import FtuiApp

    spec = demo_spec(tmp_path, "train.max_steps=30", "launch.nproc_per_node=1")
    seen: list[object] = []
    app = FtuiApp(spec, runs_root=tmp_path)
    async with app.run_test(size=(120, 36), message_hook=seen.append) as pilot:
        app.action_launch()
        for _ in range(600):
            await pilot.pause(0.1)
            if any(isinstance(x, (m.RunLaunched, m.LaunchFailed)) for x in seen):
                break
        launched = [x for x in seen if isinstance(x, m.RunLaunched)]
        assert launched, [type(x).__name__ for x in seen][-20:]
        run_dir = Path(launched[0].run_dir)
    assert run_is_live(run_dir), "the run must still be going when the app has quit"
    status = wait_for_status(run_dir, timeout=240)
    assert status["status"] == "completed", status
