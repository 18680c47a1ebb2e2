"""Write every wizard screen to screenshots/<step>.svg (and .png when rsvg-convert exists).

    python scripts/screenshots.py [--preset demo] [--fake-gpus N] [--no-run]

Then trains the demo for real (about 10 s) and captures its monitor and a playground answer.

Runs the real app headless at 120x36 in a temporary FTUI_HOME, so README images never go stale.
--fake-gpus shows the Hardware step as a machine with N GPUs would (a stand-in NVML layer).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


async def capture(out: Path, preset: str | None, fake_gpus: int | None) -> list[Path]:
    from ftui.core.presets import resolve_spec
    from ftui.tui.app import FtuiApp
    from ftui.tui.steps import step_ids

    nvml = None
    if fake_gpus is not None:
        from tests.tui.fake_nvml import FakeNvml

        nvml = FakeNvml(fake_gpus)
    spec = resolve_spec(preset) if preset else None
    os.chdir(tempfile.mkdtemp(prefix="ftui-shots-cwd-"))  # an empty runs/ for the Start step
    app = FtuiApp(spec, preset_name=preset, nvml=nvml)
    written: list[Path] = []
    async with app.run_test(size=(120, 36)) as pilot:
        for step in step_ids():
            app.open_step(step)
            await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause(0.3)
            path = out / f"{step}.svg"
            app.save_screenshot(filename=path.name, path=str(out))
            written.append(path)
        written.append(await capture_probe(app, pilot, out))
    return written


async def capture_probe(app, pilot, out: Path) -> Path:  # type: ignore[no-untyped-def]
    """The Training step after a real probe (a few steps on this machine), scrolled to it."""
    app.open_step("training")
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.press("ctrl+t")
    status = app.screen.query_one("#probe-status")
    while "Training time" not in str(status.render()) and "failed" not in str(status.render()):
        await pilot.pause(0.2)
    await pilot.pause(0.3)
    app.screen.query_one("#body").scroll_end(animate=False)
    await pilot.pause(0.3)
    app.save_screenshot(filename="training-probe.svg", path=str(out))
    return out / "training-probe.svg"


async def capture_run(out: Path) -> list[Path]:
    """A real demo run (about 10 s), then its monitor and a playground answer."""
    import time

    from ftui.core.launch.spawn import launch
    from ftui.core.presets import resolve_spec
    from ftui.core.runs.events import TERMINAL_STATUSES, last_status, read_events
    from ftui.tui.monitor_app import MonitorApp
    from ftui.tui.playground_app import PlaygroundApp

    run_dir = launch(
        resolve_spec("demo", [f"output.root={tempfile.mkdtemp(prefix='ftui-shots-runs-')}"])
    )
    while (last_status(read_events(run_dir)) or {}).get("status") not in TERMINAL_STATUSES:
        time.sleep(0.5)
    written = []
    app = MonitorApp(run_dir)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause(1.5)
        app.save_screenshot(filename="monitor.svg", path=str(out))
        written.append(out / "monitor.svg")
    chat = PlaygroundApp(run_dir)
    async with chat.run_test(size=(120, 36)) as pilot:
        screen = chat.screen
        while getattr(screen, "session", None) is None:
            await pilot.pause(0.1)
        await pilot.click("#chat-input")
        await pilot.press(*"What is the capital of France?", "enter")
        while screen.turn == 0 or screen.generating:
            await pilot.pause(0.1)
        await chat.workers.wait_for_complete()
        await pilot.pause(0.3)
        chat.save_screenshot(filename="playground.svg", path=str(out))
        written.append(out / "playground.svg")
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--preset", default="demo" if (ROOT / "presets/demo.yaml").exists() else None
    )
    parser.add_argument("--fake-gpus", type=int, default=None)
    parser.add_argument("--out", type=Path, default=ROOT / "screenshots")
    parser.add_argument("--no-run", action="store_true", help="skip the monitor and playground")
    args = parser.parse_args()
    args.out = args.out.resolve()
    args.out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("FTUI_HOME", tempfile.mkdtemp(prefix="ftui-shots-"))
    written = asyncio.run(capture(args.out, args.preset, args.fake_gpus))
    if not args.no_run:
        written += asyncio.run(capture_run(args.out))
    converter = shutil.which("rsvg-convert")
    for svg in written:
        if converter:
            subprocess.run(
                [converter, "-w", "1400", str(svg), "-o", str(svg.with_suffix(".png"))], check=True
            )
        print(svg)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
