"""Layering, checked in fresh interpreters: the core never imports the UI, and opening the
app never imports the training stack (the first screen must paint fast). The same layers are
stated as import-linter contracts in pyproject.toml; a test runs them, and another finds
import circles inside ftui/core."""

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
    """Every module under `package`, subpackages included."""
    path = ROOT / package.replace(".", "/")
    return [m.name for m in pkgutil.walk_packages([str(path)], prefix=f"{package}.")]


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


def test_walk_reaches_subpackages() -> None:
    modules = package_modules("ftui.tui")
    assert "ftui.tui.app" in modules
    assert any(m.count(".") >= 3 for m in modules), "walk_packages did not recurse"


def test_import_linter_contracts_are_kept(tmp_path: Path) -> None:
    # run from a temp dir: import-linter keeps its cache in the working directory
    code = "from importlinter.cli import lint_imports_command; lint_imports_command()"
    out = subprocess.run(
        [sys.executable, "-c", code, "--config", str(ROOT / "pyproject.toml")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert "0 broken" in out.stdout


def import_cycles(package: str) -> list[list[str]]:
    """Strongly connected groups (more than one module) of the import graph inside package;
    imports inside functions count, since they are part of the call graph too."""
    import grimp

    graph = grimp.build_graph("ftui", cache_dir=None)  # no .grimp_cache in the checkout
    mods = sorted(m for m in graph.modules if m == package or m.startswith(package + "."))
    inside = set(mods)
    edges = {
        m: [i for i in graph.find_modules_directly_imported_by(m) if i in inside] for m in mods
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in mods:
        if v not in index:
            visit(v)
    return groups


def test_core_has_no_import_circle() -> None:
    assert import_cycles("ftui.core") == []
