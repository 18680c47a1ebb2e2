"""Item 6: disk space is checked before launch. When the estimated checkpoints and final output
do not fit, the launch is refused with the figures. The small disk is a real 4 MiB tmpfs
(mounted when the tests run as root); elsewhere the free-space figure is patched instead."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections import namedtuple
from pathlib import Path

import pytest
from conftest import run_ftui

from ftui.core.check.preflight import PreflightReport, check_disk
from ftui.core.units import human_bytes

from .reltools import demo_spec


@pytest.fixture
def small_disk(tmp_path: Path):  # type: ignore[no-untyped-def]
    mount = tmp_path / "small"
    mount.mkdir()
    ok = os.geteuid() == 0 and shutil.which("mount") is not None
    if ok:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)],
            capture_output=True,
            stdin=subprocess.DEVNULL,
        )
        ok = done.returncode == 0
    if not ok:
        pytest.skip("cannot mount a tmpfs here (not root); see the patched test below")
    try:
        yield mount
    finally:
        done = subprocess.run(["umount", str(mount)], capture_output=True, stdin=subprocess.DEVNULL)
        if done.returncode != 0:  # still busy: detach it now, the kernel frees it when idle
            subprocess.run(
                ["umount", "-l", str(mount)], capture_output=True, stdin=subprocess.DEVNULL
            )


def test_ftui_run_refuses_when_the_run_does_not_fit(small_disk: Path, demo_model: Path) -> None:
    root = small_disk / "runs"
    out = run_ftui("run", "demo", "--set", f"output.root={root}", "--detach")
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert "output.root" in out.stderr and "MiB" in out.stderr, out.stderr
    assert "free" in out.stderr and str(small_disk) in out.stderr, out.stderr
    assert not root.exists() or list(root.iterdir()) == []  # nothing was launched
    assert "Traceback" not in out.stderr


def test_the_refusal_gives_the_figures(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a small disk: the free space is patched to 1 MiB."""
    import ftui.core.check.preflight as preflight

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(preflight.shutil, "disk_usage", lambda _p: usage(2**30, 0, 2**20))
    report = PreflightReport()
    check_disk(demo_spec(tmp_path), report)
    assert not report.ok
    needed, free = report.stats["disk_needed"], report.stats["disk_free"]
    assert needed > free == 2**20
    ((field, message),) = report.errors
    assert field == "output.root"
    assert f"need about {human_bytes(needed)}" in message, message
    assert "has 1.0 MiB free" in message, message


def test_a_run_that_fits_is_not_refused(tmp_path: Path) -> None:
    report = PreflightReport()
    check_disk(demo_spec(tmp_path), report)
    assert report.ok and report.stats["disk_needed"] > 0
