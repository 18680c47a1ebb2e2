"""The GPU suite (bench/gpu/) in its dry run: the same code paths on the CPU with tiny shapes,
so that the suite cannot rot between the sessions that are lent a GPU. One dry run (about a
minute) feeds every check of its JSON; the time boxes are checked on their own, in-process."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
GPU = ROOT / "bench" / "gpu"
sys.path.insert(0, str(GPU))

import common  # noqa: E402
import parts  # noqa: E402
import to_readme  # noqa: E402

ALL_PARTS = ["detection", "memory", "throughput", "packing_attention", "ftui_run"]


@pytest.fixture(scope="module")
def dry(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    out = tmp_path_factory.mktemp("gpu-suite")
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", PYTHONPATH=str(ROOT))
    with open(out / "stdout.log", "w") as log:
        proc = subprocess.run(
            [sys.executable, str(GPU / "run.py"), "--out", str(out / "o"), "--dry-run",
             "--work", str(out / "work")],
            cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            timeout=900,
        )  # fmt: skip
    assert proc.returncode == 0, (out / "stdout.log").read_text()[-3000:]
    return json.loads((out / "o" / "result.json").read_text()), out / "o"


def _positive(x: Any) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x) and x > 0


def test_every_part_ran_within_its_budget(dry: tuple[dict[str, Any], Path]) -> None:
    result, out = dry
    assert result["dry_run"] is True
    assert list(result["parts"]) == ALL_PARTS
    log = (out / "suite.log").read_text()[-2000:]
    for name, part in result["parts"].items():
        assert part["status"] == "ok", (name, part.get("error"), log)
        assert part["wall_s"] <= part["budget_s"]
    assert result["versions"]["torch"] and result["versions"]["transformers"]


def test_memory_ratios_are_finite_and_positive(dry: tuple[dict[str, Any], Path]) -> None:
    cases = dry[0]["parts"]["memory"]["result"]["cases"]
    assert len(cases) == 12  # 3 shapes x LoRA/full x with/without gradient checkpointing
    for key, case in cases.items():
        assert case["status"] == "ok" and case["fits"], (key, case)
        assert _positive(case["estimate_gib"]) and _positive(case["measured_gib"])
        assert _positive(case["ratio"])


def test_throughput_runs_trl_and_ftui_recipes(dry: tuple[dict[str, Any], Path]) -> None:
    entry = dry[0]["parts"]["throughput"]["result"]["shapes"]["llama-3.2-1b"]
    recipes = entry["recipes"]
    assert set(recipes) == {
        "trl_default", "trl_tuned", "ftui", "ftui_liger", "ftui_packing", "ftui_compile"
    }  # fmt: skip
    for name in ("trl_default", "trl_tuned", "ftui", "ftui_packing", "ftui_compile"):
        r = recipes[name]
        assert r["status"] == "ok", (name, r)
        assert _positive(r["tokens_per_s"]) and r["real_tokens"] > 0
        assert 0 < r["padding_efficiency"] <= 1
        assert _positive(entry["vs_trl_default"][name])
    assert recipes["ftui_packing"]["padding_efficiency"] == 1.0  # padding-free rows
    assert recipes["trl_tuned"]["settings"]["gradient_checkpointing"] == "False"
    liger = recipes["ftui_liger"]
    assert liger["status"] == "skipped" and "CUDA" in liger["reason"]


def test_packing_check_keeps_samples_apart(dry: tuple[dict[str, Any], Path]) -> None:
    r = dry[0]["parts"]["packing_attention"]["result"]
    assert r["impls"]["sdpa"]["status"] == "ok"
    assert r["impls"]["sdpa"]["keeps_samples_apart"] is True
    assert "sdpa" in r["keeps_samples_apart"] and r["mixes_samples"] == []
    assert r["fastest"] in r["keeps_samples_apart"]
    assert "CUDA" in r["impls"]["flash_attention_2"]["reason"]
    assert _positive(r["padded_sdpa"]["padded_ms"])


def test_the_real_run_completed_with_events_and_the_probe_ran(
    dry: tuple[dict[str, Any], Path],
) -> None:
    r = dry[0]["parts"]["ftui_run"]["result"]
    run = r["run"]
    assert run["final_status"] == "completed" and run["plan"]["world_size"] == 1
    assert run["metrics_events"] == run["plan"]["total_steps"] == 3
    assert _positive(run["mem_gb_max"]) and run["live_samples"] > 0
    assert _positive(r["estimate"]["ratio"])
    probe = r["probe"]
    assert probe["ran_batch"] == probe["asked_batch"] and probe["oom_batches"] == []
    assert "OutOfMemoryError" in probe["note"]


def test_detection_agrees_and_the_summary_lists_every_part(
    dry: tuple[dict[str, Any], Path],
) -> None:
    result, out = dry
    det = result["parts"]["detection"]["result"]
    assert det["ftui_gpus"]["report"]["backend"] in ("cpu", "nvml", "torch-cuda")
    assert det["mismatches"] == []
    summary = (out / "summary.md").read_text()
    for name in ALL_PARTS:
        assert f"| {name} | ok |" in summary


def test_to_readme_writes_only_its_section(
    dry: tuple[dict[str, Any], Path], tmp_path: Path
) -> None:
    _, out = dry
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\nabove\n{to_readme.START}\nold\n{to_readme.END}\nbelow\n")
    result = str(out / "result.json")
    assert to_readme.main([result, "--write", str(readme)]) == 2  # no dry run in a README
    assert "old" in readme.read_text()
    assert to_readme.main([result, "--write", str(readme), "--allow-dry-run"]) == 0
    text = readme.read_text()
    assert text.startswith("# x\n\nabove\n") and text.endswith(f"{to_readme.END}\nbelow\n")
    assert "old" not in text
    assert "| TRL SFTTrainer, defaults |" in text and "| qwen2.5-0.5b lora |" in text
    assert "dry run on the CPU" in text


def test_an_item_over_its_cap_is_recorded_and_the_part_goes_on(tmp_path: Path) -> None:
    common.install_alarm()
    part = common.Part("p", tmp_path / "p.json", True, tmp_path, 30)
    section = part.result

    def slow() -> dict[str, Any]:
        time.sleep(5)
        return {}

    with common.time_box(30):
        part.item(section, "slow", slow, 0.3)
        part.item(section, "quick", lambda: {"x": 1}, 5)
        part.item(section, "broken", lambda: {"x": 1 / 0}, 5)
    assert section["slow"]["status"] == "timed_out" and section["slow"]["wall_s"] < 2
    assert section["quick"] == {"status": "ok", "x": 1, "wall_s": section["quick"]["wall_s"]}
    assert section["broken"]["status"] == "failed"
    assert "ZeroDivisionError" in section["broken"]["reason"]
    assert json.loads((tmp_path / "p.json").read_text())["result"]["quick"]["x"] == 1


def test_a_part_over_its_budget_keeps_what_it_measured(tmp_path: Path) -> None:
    common.install_alarm()
    part = common.Part("p", tmp_path / "p.json", True, tmp_path, 1.5)

    def measures_then_hangs(p: common.Part) -> None:
        p.item(p.result, "first", lambda: {"x": 1}, 5)
        p.item(p.result, "second", lambda: time.sleep(5) or {}, 5)  # type: ignore[func-returns-value]

    started = time.monotonic()
    parts.run_part("p", measures_then_hangs, part)
    saved = json.loads((tmp_path / "p.json").read_text())
    assert time.monotonic() - started < 3
    assert saved["status"] == "timed_out" and "budget" in saved["error"]
    assert saved["result"]["first"]["x"] == 1
    assert saved["result"]["second"]["status"] == "timed_out"
