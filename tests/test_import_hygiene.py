"""Layering, checked in fresh interpreters: the core never imports the UI, and opening the
app never imports the training stack (the first screen must paint fast)."""

from __future__ import annotations

import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def modules_loaded_by(statement: str) -> set[str]:
    code = f"import sys\n{statement}\nprint('\\n'.join(sys.modules))"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, check=True
    )
    return set(out.stdout.split())


def package_modules(package: str) -> list[str]:
    path = ROOT / package.replace(".", "/")
    return [f"{package}.{m.name}" for m in pkgutil.iter_modules([str(path)])]


def test_tui_app_does_not_import_the_training_stack() -> None:
    loaded = modules_loaded_by("import ftui.tui.app, ftui.tui.launch_app")
    for heavy in ("torch", "transformers", "datasets", "peft"):
        assert heavy not in loaded, f"import ftui.tui.app imported {heavy}"
    assert "textual" in loaded  # the check itself works


@pytest.mark.parametrize("package", ["ftui.core", "ftui.train"])
def test_core_and_train_never_import_textual_or_rich(package: str) -> None:
    modules = [m for m in package_modules(package) if not m.endswith("__main__")]
    assert modules, f"no modules found in {package}"
    loaded = modules_loaded_by("\n".join(f"import {m}" for m in modules))
    for ui in ("textual", "rich"):
        assert ui not in loaded, f"importing {package} pulled in {ui}"
