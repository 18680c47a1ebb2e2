"""The monitor never imports torch (or transformers): it only reads the run directory."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    "module",
    [
        "ftui.tui.monitor_app",
        "ftui.tui.screens.monitor",
        "ftui.tui.screens.runs",
        "ftui.commands.runs",
    ],
)
def test_monitor_modules_import_no_torch(module: str) -> None:
    code = (
        f"import sys, {module}\n"
        "heavy = [m for m in ('torch', 'transformers', 'datasets', 'peft') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


@pytest.mark.parametrize(
    "module",
    [
        "ftui.core.runs.status",
        "ftui.core.runs.checkpoints",
        "ftui.core.runs.failures",
        "ftui.core.runs.logtail",
        "ftui.core.runs.watch",
        "ftui.core.runs.metrics",
        "ftui.core.runs.notify",
    ],
)
def test_core_monitor_modules_import_no_textual(module: str) -> None:
    code = f"import sys, {module}\nprint('textual' in sys.modules or 'rich' in sys.modules)\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_sampling_the_host_imports_no_torch() -> None:
    code = (
        "import sys\n"
        "from ftui.tui.widgets.wizard.gpu_panel import render_sample, sample_host\n"
        "render_sample(sample_host()); render_sample(sample_host())\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
