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
    assert section["slow"]["status"] == "timed_out" and section["slow"]["wall_s"] < 4
    assert section["quick"] == {"status": "ok", "x": 1, "wall_s": section["quick"]["wall_s"]}
    assert section["broken"]["status"] == "failed"
    assert "ZeroDivisionError" in section["broken"]["reason"]
    assert json.loads((tmp_path / "p.json").read_text())["result"]["quick"]["x"] == 1


def test_a_part_over_its_budget_keeps_what_it_measured(tmp_path: Path) -> None:
    common.install_alarm()
    part = common.Part("p", tmp_path / "p.json", True, tmp_path, 3)

    def measures_then_hangs(p: common.Part) -> None:
        p.item(p.result, "first", lambda: {"x": 1}, 5)
        p.item(p.result, "second", lambda: time.sleep(30) or {}, 30)  # type: ignore[func-returns-value]

    started = time.monotonic()
    parts.run_part("p", measures_then_hangs, part)
    saved = json.loads((tmp_path / "p.json").read_text())
    assert time.monotonic() - started < 10  # the budget, 3 s, not the 30 s sleep
    assert saved["status"] == "timed_out" and "budget" in saved["error"]
    assert saved["result"]["first"]["x"] == 1
    assert saved["result"]["second"]["status"] == "timed_out"


def test_the_tables_show_what_only_a_gpu_run_has() -> None:
    """MFU, a case that does not fit, an attention that mixes samples, the probe's back-off:
    branches the dry run never reaches, in the shape the GPU parts write them."""
    import report

    ok = {"status": "ok", "wall_s": 1.0}
    result = {
        "dry_run": False,
        "started": "2026-12-01T12:00:00Z",
        "wall_s": 470.0,
        "versions": {"torch": "2.11.0", "liger-kernel": "0.8.5"},
        "machine": {"ftui_commit": "abc1234"},
        "parts": {
            "detection": {**ok, "result": {
                "torch": {"name": "NVIDIA H200", "memory_total": 150 * 2**30, "torch_cuda": "13.0"},
                "nvidia_smi": {"gpus": [{"driver": "580.159.03"}]},
                "mismatches": [],
                "matmul": {**ok, "n": 8192, "dtype": "torch.bfloat16", "tflops": 781.2},
            }},
            "throughput": {**ok, "result": {"peak_flops": 989e12, "shapes": {"llama-3.2-1b": {
                "rows": 384, "batch": 8, "setup": {**ok, "row_tokens_mean": 640.0,
                                                   "max_seq_len": 2048},
                "recipes": {
                    "trl_default": {**ok, "tokens_per_s": 10000.0, "mfu": 0.121,
                                    "padding_efficiency": 0.61, "peak_mem_gib": 30.5},
                    "ftui_liger": {**ok, "tokens_per_s": 25000.0, "mfu": 0.31,
                                   "padding_efficiency": 0.95, "peak_mem_gib": 12.25},
                    "ftui_compile": {"status": "timed_out", "reason": "over its 150 s cap"},
                },
                "vs_trl_default": {"trl_default": 1.0, "ftui_liger": 2.5},
            }}}},
            "memory": {**ok, "result": {"measured_as": "torch.cuda.max_memory_allocated",
                                        "seq_len": 2048, "cases": {
                "llama-3.1-8b full": {**ok, "batch": 1, "estimate_gib": 140.0, "fits": False,
                                      "reason": "the estimate is over 90% of the free memory"},
                "llama-3.2-1b lora": {**ok, "batch": 4, "estimate_gib": 20.0, "fits": True,
                                      "measured_gib": 16.0, "ratio": 1.25},
            }}},
            "packing_attention": {**ok, "result": {
                "shape": "llama-3.2-1b", "lengths": [1800, 950], "fastest": "sdpa",
                "impls": {
                    "sdpa": {**ok, "keeps_samples_apart": True, "packed_ms": 40.0,
                             "packed_tokens_per_s": 68750.0, "gap_other_first": 0.0},
                    "custom": {**ok, "keeps_samples_apart": False, "packed_ms": 30.0,
                               "packed_tokens_per_s": 91666.0, "gap_other_first": 0.4},
                },
            }},
            "ftui_run": {**ok, "result": {
                "shape": "llama-3.2-1b",
                "run": {**ok, "final_status": "completed", "metrics_events": 6,
                        "last_metrics": {"tokens_per_s": 24000.0}, "mfu": [0.29, 0.3],
                        "mem_gb_max": 14.2, "live_source": "nvml", "live_samples": 40,
                        "live_utilization_max": 100, "live_power_w_max": 650.0,
                        "nccl_log_lines": 12},
                "probe": {**ok, "asked_batch": 64, "ran_batch": 16, "oom_batches": [64, 32],
                          "advice": "suggest train.per_device_batch_size=8"},
            }},
        },
    }  # fmt: skip
    text = report.markdown(result)
    assert text.startswith("# ftui GPU suite\n\nGPU run: NVIDIA H200, 150 GiB, driver 580")
    assert "| ftui + Liger | 25000 | 2.50x | 31.0% | 0.950 | 12.25 |" in text
    assert "| ftui + torch_compile | timed_out: over its 150 s cap |" in text
    assert "dense bf16 peak of 989 TFLOP/s; a bf16 matmul ran at 781 TFLOP/s" in text
    assert (
        "| llama-3.1-8b full | 1 | 140.00 | the estimate is over 90% of the free memory |" in text
    )
    assert "| llama-3.2-1b lora | 4 | 20.00 | 16.00 | 1.250 |" in text
    assert "| custom | NO (gap 0.4) | 30.0 |" in text
    assert "MFU 30.0%" in text and "NCCL log lines 12" in text and "power max 650 W" in text
    assert "ran 16, out of memory at [64, 32]" in text
