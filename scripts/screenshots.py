"""Write every wizard screen to screenshots/<step>.svg (and .png when rsvg-convert exists).

    python scripts/screenshots.py [--preset demo] [--fake-gpus N]

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
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--preset", default="demo" if (ROOT / "presets/demo.yaml").exists() else None
    )
    parser.add_argument("--fake-gpus", type=int, default=None)
    parser.add_argument("--out", type=Path, default=ROOT / "screenshots")
    args = parser.parse_args()
    args.out = args.out.resolve()
    args.out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("FTUI_HOME", tempfile.mkdtemp(prefix="ftui-shots-"))
    written = asyncio.run(capture(args.out, args.preset, args.fake_gpus))
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
