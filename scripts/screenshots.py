"""Write every wizard screen to screenshots/<step>.svg (and .png when rsvg-convert exists).

    python scripts/screenshots.py [--preset demo] [--fake-gpus N] [--no-run]
                                  [--identity | --identity-run RUN] [--only-identity]
                                  [--only-export RUN]
                                  [--eval-card] [--only-eval-card]

Then trains the demo for real (about 10 s) and captures its monitor, a playground answer and
its export screen after a merged export with a GGUF and `--check` (ctrl+k).
--identity also trains the real-model demo (`smollm2-identity`: minutes on a CPU; or reuse a
finished run with --identity-run) and captures the playground's compare view on it.
--eval-card trains the demo with a fifth of its rows held out (about a minute) and captures the
monitor's eval card: eval loss from step 0, the best checkpoint, the forgetting meter.

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
    from ftui.tui.monitor_app import MonitorApp
    from ftui.tui.playground_app import PlaygroundApp

    run_dir = train_to_end("demo")
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
    return written + await capture_export(out, run_dir)


async def capture_export(out: Path, run_dir: Path) -> list[Path]:
    """The export screen after a merged export with an f16 GGUF, then its parity check."""
    from textual.widgets import Input, Select

    import ftui.tui
    from ftui.tui.base_app import FtuiBaseApp
    from ftui.tui.screens.export import ExportScreen

    class ExportApp(FtuiBaseApp):
        CSS_PATH = str(Path(ftui.tui.__file__).parent / "styles" / "playground.tcss")

        def get_default_screen(self) -> ExportScreen:
            return ExportScreen(run_dir)

    app = ExportApp()
    os.chdir(tempfile.mkdtemp(prefix="ftui-shots-export-"))  # a short relative --out
    folder = "exports/demo-merged"
    async with app.run_test(size=(120, 50)) as pilot:  # the summary and the check
        screen = app.screen
        screen.query_one("#export-gguf", Select).value = "f16"
        screen.query_one("#export-out", Input).value = folder
        await pilot.pause()
        await pilot.press("ctrl+e")
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("ctrl+k")
        await app.workers.wait_for_complete()
        await pilot.pause(0.3)
        for widget in screen.query(Input):
            widget.cursor_blink = False
        app.save_screenshot(filename="export.svg", path=str(out))
    return [out / "export.svg"]


IDENTITY_PROBES = ("你是谁？", "What is the capital of France?", "Who wrote Romeo and Juliet?")
"""Added to the preset's own probes (its first rows, all identity questions): one in another
script, and two unrelated questions whose answers must survive the fine-tune."""


async def capture_identity(out: Path, run_dir: Path | None) -> list[Path]:
    """The real-model demo in the compare view: base vs fine-tuned SmolLM2 side by side on
    "Who are you?", then the probe table over every checkpoint (base, step-N, final)."""
    from textual.widgets import Input

    from ftui.tui.playground_app import PlaygroundApp
    from ftui.tui.widgets.chat.compare import ProbeTable

    if run_dir is None:
        run_dir = train_to_end("smollm2-identity")
    # A fixed name, so the title shows no timestamp.
    shown = Path(tempfile.mkdtemp(prefix="ftui-shots-identity-")) / "smollm2-identity"
    shutil.copytree(run_dir, shown)
    chat = PlaygroundApp(shown)
    async with chat.run_test(size=(120, 36)) as pilot:
        screen = chat.screen
        while getattr(screen, "session", None) is None:
            await pilot.pause(0.1)
        await pilot.press("f2")
        await pilot.pause()
        await pilot.click("#compare-input")
        await pilot.press(*"Who are you?", "enter")
        await chat.workers.wait_for_complete()
        await pilot.click("#probe-input")
        for prompt in IDENTITY_PROBES:  # set, not typed: a key press cannot carry "？"
            screen.query_one("#probe-input", Input).value = prompt
            await pilot.press("enter")
        await pilot.press("ctrl+r")
        await pilot.pause()
        await chat.workers.wait_for_complete()
        await pilot.click("#probe-table")
        # The line under the table shows the highlighted cell whole: the general question's
        # answer after the fine-tune.
        table = screen.query_one(ProbeTable)
        general = [p.prompt for p in screen.probes].index(IDENTITY_PROBES[1])
        table.move_cursor(row=general, column=len(table.columns) - 1)
        await pilot.pause(0.3)
        chat.save_screenshot(filename="compare-identity.svg", path=str(out))
    return [out / "compare-identity.svg"]


EVAL_CARD_SET = ["data.eval_split=0.2"]  # the demo holds none out: its point is to memorise


async def capture_eval_card(out: Path) -> list[Path]:
    """The monitor of a finished demo run with held-out rows: its eval card."""
    import time

    from ftui.tui.monitor_app import MonitorApp

    run_dir = train_to_end("demo", EVAL_CARD_SET)
    time.sleep(5)  # the launcher exits after the last event: the copy is of a finished run
    shown = Path(tempfile.mkdtemp(prefix="ftui-shots-eval-")) / "demo-eval-card"
    shutil.copytree(run_dir, shown)  # a fixed name, so the title shows no timestamp
    app = MonitorApp(shown)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause(1.5)
        await app.workers.wait_for_complete()
        await pilot.pause(0.3)
        app.save_screenshot(filename="eval-card.svg", path=str(out))
    return [out / "eval-card.svg"]


def train_to_end(preset: str, overrides: list[str] | None = None) -> Path:
    """Launch a built-in preset for real into a temp runs root; wait until it has finished."""
    import time

    from ftui.core.launch.spawn import launch
    from ftui.core.presets import resolve_spec
    from ftui.core.runs.events import TERMINAL_STATUSES, last_status, read_events

    root = tempfile.mkdtemp(prefix="ftui-shots-runs-")
    run_dir = launch(resolve_spec(preset, [f"output.root={root}", *(overrides or [])]))
    while (last_status(read_events(run_dir)) or {}).get("status") not in TERMINAL_STATUSES:
        time.sleep(0.5)
    return run_dir


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--preset", default="demo" if (ROOT / "presets/demo.yaml").exists() else None
    )
    parser.add_argument("--fake-gpus", type=int, default=None)
    parser.add_argument("--out", type=Path, default=ROOT / "screenshots")
    parser.add_argument("--no-run", action="store_true", help="skip the monitor and playground")
    parser.add_argument(
        "--identity", action="store_true", help="train smollm2-identity: its compare view"
    )
    parser.add_argument("--identity-run", type=Path, help="a finished smollm2-identity run")
    parser.add_argument(
        "--only-identity", action="store_true", help="only the smollm2-identity compare view"
    )
    parser.add_argument("--only-export", type=Path, help="only the export screen of this run")
    parser.add_argument("--eval-card", action="store_true", help="also the monitor's eval card")
    parser.add_argument("--only-eval-card", action="store_true", help="only the eval card")
    args = parser.parse_args()
    args.out = args.out.resolve()
    args.out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from ftui.core.locations import artefacts_root

    # the fetched real artefacts (SmolLM2, llama.cpp's converter) stay the user's, fetched once
    os.environ.setdefault("FTUI_ARTEFACTS", str(artefacts_root()))
    os.environ.setdefault("FTUI_HOME", tempfile.mkdtemp(prefix="ftui-shots-"))
    written = []
    if args.only_export:
        written += asyncio.run(capture_export(args.out, args.only_export.resolve()))
    elif not (args.only_identity or args.only_eval_card):
        written += asyncio.run(capture(args.out, args.preset, args.fake_gpus))
        if not args.no_run:
            written += asyncio.run(capture_run(args.out))
    if args.identity or args.identity_run or args.only_identity:
        run = args.identity_run.resolve() if args.identity_run else None
        written += asyncio.run(capture_identity(args.out, run))
    if args.eval_card or args.only_eval_card:
        written += asyncio.run(capture_eval_card(args.out))
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
