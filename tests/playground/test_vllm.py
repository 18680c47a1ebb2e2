"""`vllm serve` commands, and the adapters vLLM would refuse (its limits: core/playground/vllm.py)."""

from __future__ import annotations

import pytest

from ftui.core.check.preflight import PreflightReport, check_serving
from ftui.core.playground.vllm import (
    vllm_lora_problems,
    vllm_lora_warning,
    vllm_max_lora_rank,
    vllm_serve_command,
)
from ftui.core.presets import resolve_spec
from ftui.core.spec import RunSpec


def lora(**kw: object) -> RunSpec:
    return RunSpec.model_validate({"method": {"kind": "lora", "lora": kw}})


@pytest.mark.parametrize(
    ("r", "flag"), [(1, 1), (8, 8), (16, 16), (24, 32), (300, 320), (512, 512)]
)
def test_the_smallest_rank_vllm_accepts(r: int, flag: int) -> None:
    assert vllm_max_lora_rank(r) == flag


def test_an_adapter_vllm_serves_gets_the_lora_command() -> None:
    spec = lora(r=24)
    assert vllm_lora_problems(spec) == [] and vllm_lora_warning(spec) is None
    assert vllm_serve_command("/out/a", False, "org/base", spec) == (
        "vllm serve org/base --enable-lora --lora-modules ftui=/out/a --max-lora-rank 32"
    )
    assert vllm_serve_command("/out/m", True, "org/base", spec) == (
        "vllm serve /out/m --served-model-name ftui"
    )


@pytest.mark.parametrize(
    ("kw", "says"),
    [
        ({"r": 1024}, "method.lora.r 1024 is above vLLM's largest --max-lora-rank 512"),
        ({"modules_to_save": ["lm_head"]}, "modules_to_save lm_head: vLLM only serves"),
        ({"use_dora": True}, "vLLM does not serve DoRA"),
    ],
)
def test_what_vllm_refuses_is_said_with_the_way_out(kw: dict, says: str) -> None:
    warning = vllm_lora_warning(lora(**kw))
    assert warning is not None and says in warning
    assert warning.endswith("export merged instead (ftui export RUN --merge)")


def test_the_preflight_warns_before_training_on_the_demo() -> None:
    # The demo trains embed_tokens and lm_head whole (modules_to_save).
    report = PreflightReport()
    check_serving(resolve_spec("demo", []), report)
    assert report.ok
    [(field, message)] = report.warnings
    assert field == "method.lora.modules_to_save"
    assert "embed_tokens, lm_head" in message and "export merged instead" in message


def test_a_full_fine_tune_has_nothing_to_warn() -> None:
    spec = RunSpec.model_validate({"method": {"kind": "full"}})
    assert vllm_lora_warning(spec) is None
    assert vllm_serve_command("/m", False, "org/base", spec).startswith("vllm serve /m ")
