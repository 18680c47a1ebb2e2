"""A non-editable install finds the built-in presets (they ship inside the wheel)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_install_lists_builtin_presets(tmp_path):
    wheels = tmp_path / "wheels"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(REPO)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if (
        build.returncode != 0
        and "hatchling" in build.stderr
        and "No matching distribution" in build.stderr
    ):
        pytest.skip("no package index reachable to fetch the hatchling build backend")
    assert build.returncode == 0, build.stderr
    (wheel,) = wheels.glob("ftui-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    # The dependencies come from the test environment's site-packages (a path in a .pth file:
    # that directory's own .pth files, such as an editable ftui, are not processed).
    site_dir = subprocess.run(
        [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    import site

    parents = [p for p in site.getsitepackages() if Path(p).is_dir()]
    Path(site_dir, "_ftui_test_deps.pth").write_text("\n".join(parents) + "\n")
    subprocess.run(
        [str(py), "-m", "pip", "install", "-q", "--no-deps", str(wheel)], check=True, timeout=300
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["FTUI_HOME"] = str(tmp_path / "home")
    out = subprocess.run(
        [str(venv / "bin" / "ftui"), "presets", "list"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    for name in ("demo", "llama31-8b-lora-xsum", "llama2-7b-lora8bit-guanaco"):
        assert name in out.stdout
    where = subprocess.run(
        [str(py), "-c", "import ftui, sys; print(ftui.__file__)"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    ).stdout
    assert str(venv) in where, f"imported ftui from {where}, not the installed wheel"
