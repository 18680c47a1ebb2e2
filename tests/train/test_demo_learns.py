"""The spine's acceptance test: after `ftui run demo`, `ftui chat RUN --prompt` answers the
demo questions it was taught, and the same model with the adapter off answers none of them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ftui.cli import main
from ftui.core.demo import demo_data_path

pytestmark = pytest.mark.slow


def demo_pairs(n: int = 10) -> list[tuple[str, str]]:
    rows = [json.loads(x) for x in demo_data_path().read_text("utf-8").splitlines() if x]
    return [(r["question"], r["answer"]) for r in rows[:n]]


def chat(run: Path, prompt: str, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    assert main(["chat", str(run), "--prompt", prompt, *extra]) == 0
    return capsys.readouterr().out.strip()


def test_fine_tuned_answers_nine_of_ten(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    right = [chat(demo, q, capsys) == a for q, a in demo_pairs()]
    assert sum(right) >= 9, right


def test_base_answers_none(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    answers = [chat(demo, q, capsys, "--base") for q, _ in demo_pairs()]
    assert not any(a == expected for a, (_, expected) in zip(answers, demo_pairs(), strict=True))


def test_the_real_command_line(demo: Path) -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "ftui",
            "chat",
            str(demo),
            "--prompt",
            "What is the capital of France?",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "The capital of France is Paris."
