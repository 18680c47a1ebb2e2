"""RunPaths is the only place a run-directory file name is spelled (ftui/core/runs/rundir.py)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from fake_runs import make_checkpoint, make_run

from ftui.core.runs.checkpoints import list_checkpoints, newest_complete_checkpoint
from ftui.core.runs.logtail import rank_logs
from ftui.core.runs.rundir import IN_RUN, RunPaths, checkpoint_step, log_rank
from ftui.core.runs.status import is_run_dir

REPO = Path(__file__).resolve().parents[2]

# File names with a suffix, checkpoint-N and rank<N>.log/json are names wherever they appear;
# the bare folder and marker names only next to a slash or as a whole path operand.
FILE_NAME = re.compile(
    r"(config\.yaml|command\.txt|run\.json|events\.jsonl|launcher\.log"
    r"|rank(\d+|\{\}|\*|<N>)\.(log|json)|checkpoint-)"
)
FOLDER_PIECE = re.compile(
    r"(^|[^\w.])(logs|checkpoints|final|pids)/|/(logs|checkpoints|final|pids)\b"
)
WHOLE_NAMES = {"logs", "checkpoints", "final", "pids", "STOP", "COMPLETE"}


def _text(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):  # f-string: its literal parts, {} for each field
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    return None


def _path_operands(tree: ast.AST) -> set[int]:
    """Literals used as a path: either side of `/`, an argument of Path() or joinpath(), or
    compared with something's `.name`."""
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            out |= {id(node.left), id(node.right)}
        elif isinstance(node, ast.Call):
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name in ("Path", "joinpath", "open"):
                out |= {id(a) for a in node.args}
        elif isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(isinstance(s, ast.Attribute) and s.attr == "name" for s in sides):
                out |= {id(s) for s in sides}
    return out


def spelled_run_file_names(root: Path) -> list[str]:
    found = []
    for file in sorted((root / "ftui").rglob("*.py")):
        rel = file.relative_to(root).as_posix()
        if rel == "ftui/core/runs/rundir.py":
            continue
        tree = ast.parse(file.read_text(encoding="utf-8"))
        docstrings = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr)}
        fields = {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
        operands = _path_operands(tree)
        for node in ast.walk(tree):
            text = _text(node)
            if text is None or id(node) in docstrings or id(node) in fields:
                continue
            if (
                FILE_NAME.search(text)
                or FOLDER_PIECE.search(text)
                or (text in WHOLE_NAMES and id(node) in operands)
                or text in ("STOP", "COMPLETE")
            ):
                found.append(f"{rel}:{node.lineno}: {text!r}")
    return found


def test_no_run_dir_file_name_is_spelled_outside_run_paths() -> None:
    assert spelled_run_file_names(REPO) == []


def test_the_check_finds_a_spelled_name(tmp_path: Path) -> None:
    module = tmp_path / "ftui" / "core" / "x.py"
    module.parent.mkdir(parents=True)
    module.write_text(
        '"""Reads config.yaml (a docstring may say so)."""\n'
        "from pathlib import Path\n"
        "def f(run: Path, step: int, name: str) -> list[object]:\n"
        "    kind = 'final'  # an event type, not a path\n"
        "    return [run / 'config.yaml', run / 'final', f'checkpoint-{step}', name == 'x',\n"
        "            f'see logs/{name}', run.name == 'rank0.log', kind]\n"
    )
    found = spelled_run_file_names(tmp_path)
    assert sorted(line.split(": ", 1)[1] for line in found) == [
        "'checkpoint-{}'",
        "'config.yaml'",
        "'final'",
        "'rank0.log'",
        "'see logs/{}'",
    ], found


def test_paths_and_names_read_back(tmp_path: Path) -> None:
    run = make_run(tmp_path, steps=12, checkpoints=(10,))
    paths = RunPaths(run)
    assert is_run_dir(run) and all(p.parent == run for p in paths.markers)
    assert paths.checkpoint(10).is_dir() and checkpoint_step(paths.checkpoint(10)) == 10
    assert list_checkpoints(run) == [paths.checkpoint(10)]
    assert newest_complete_checkpoint(run, set_aside_incomplete=False) == paths.checkpoint(10)
    assert (paths.checkpoint(10) / RunPaths.COMPLETE_MARKER).is_file()
    (paths.launcher_log).write_text("launcher\n")
    assert rank_logs(run) == [paths.rank_log(0), paths.rank_log(1), paths.launcher_log]
    assert [log_rank(p) for p in rank_logs(run)] == [0, 1, None]
    assert checkpoint_step(paths.checkpoint(10).with_name("checkpoint-10.incomplete-empty")) is None
    make_checkpoint(run, 20)
    assert [checkpoint_step(p) for p in list_checkpoints(run)] == [20, 10]


def test_in_run_names_files_relative_to_the_run() -> None:
    assert str(IN_RUN.rank_log(0)) == "logs/rank0.log"
    assert str(IN_RUN.config) == "config.yaml" and f"{IN_RUN.final}/" == "final/"
