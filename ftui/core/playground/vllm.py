"""`vllm serve` for an export, and why an adapter cannot be served by vLLM as a LoRA.

vLLM's limits, from its source (vllm-project/vllm):
- `vllm/config/lora.py`: `MaxLoRARanks = Literal[1, 8, 16, 32, 64, 128, 256, 320, 512]`;
  `--max-lora-rank` must be one of these (default 16) and at least the adapter's r.
- `vllm/lora/peft_helper.py`, `PEFTHelper._validate_features`: "vLLM only supports
  modules_to_save being None." and "vLLM does not yet support DoRA."
A merged export has none of these limits: it is a plain model to vLLM.
"""

from __future__ import annotations

import shlex

from ftui.core.spec import RunSpec

VLLM_LORA_RANKS = (1, 8, 16, 32, 64, 128, 256, 320, 512)


def vllm_max_lora_rank(r: int) -> int | None:
    """The smallest `--max-lora-rank` vLLM accepts for rank r; None above its maximum."""
    return next((v for v in VLLM_LORA_RANKS if v >= r), None)


def vllm_lora_problems(spec: RunSpec) -> list[str]:
    """Why this run's adapter cannot be served by vLLM as a LoRA (empty when it can)."""
    if spec.method.kind == "full":
        return []
    lora = spec.method.lora
    problems = []
    if vllm_max_lora_rank(lora.r) is None:
        problems.append(f"method.lora.r {lora.r} is above vLLM's largest --max-lora-rank 512")
    if lora.modules_to_save:
        problems.append(
            f"method.lora.modules_to_save {', '.join(lora.modules_to_save)}: vLLM only "
            "serves adapters without modules_to_save"
        )
    if lora.use_dora:
        problems.append("method.lora.use_dora: vLLM does not serve DoRA adapters")
    return problems


def vllm_lora_warning(spec: RunSpec) -> str | None:
    """One line for the preflight and the export, or None."""
    problems = vllm_lora_problems(spec)
    if not problems:
        return None
    return (
        "vLLM cannot serve this adapter as a LoRA (" + "; ".join(problems) + "): "
        "export merged instead (ftui export RUN --merge)"
    )


def vllm_serve_argv(
    folder: str, merged: bool, base: str, spec: RunSpec, name: str = "ftui"
) -> list[str]:
    """The merged model served directly, or the base with this adapter as LoRA `name`."""
    if merged or spec.method.kind == "full":
        return ["vllm", "serve", folder, "--served-model-name", name]
    rank = vllm_max_lora_rank(spec.method.lora.r) or spec.method.lora.r
    return [
        "vllm",
        "serve",
        base,
        "--enable-lora",
        "--lora-modules",
        f"{name}={folder}",
        "--max-lora-rank",
        str(rank),
    ]


def vllm_serve_command(
    folder: str, merged: bool, base: str, spec: RunSpec, name: str = "ftui"
) -> str:
    return shlex.join(vllm_serve_argv(folder, merged, base, spec, name))
