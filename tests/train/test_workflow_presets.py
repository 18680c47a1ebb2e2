"""Each workflow preset trains end to end for a few steps through the real launcher and
torchrun, with its model swapped for a tiny model of the same family and its data swapped for
a local sample with the same columns and format. Everything else is the preset's own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import _logs, wait_for_status

from ftui.core.demo import build_tiny_model
from ftui.core.launch.spawn import launch
from ftui.core.presets import resolve_spec
from ftui.core.runs.events import read_events

LLAMA3_TOKENS = ["<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]


def _alpaca(n: int) -> list[dict]:
    return [
        {
            "instruction": f"Add {i} and {i + 1}.",
            "input": "" if i % 2 else f"numbers: {i}, {i + 1}",
            "output": f"{i} plus {i + 1} is {2 * i + 1}.",
        }
        for i in range(n)
    ]


def _write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _sample_data(kind: str, tmp: Path) -> tuple[str, list[str]]:
    """(local source, extra overrides) with the preset's columns and format."""
    if kind == "wikitext":
        rows = [
            {"text": t}
            for t in [" = Valkyria Chronicles = \n", "", " The game began development in 2010 .\n"]
            * 8
        ]
        return str(_write_jsonl(tmp / "wikitext.jsonl", rows)), ["data.eval_split=0.25"]
    if kind == "alpaca":
        return str(_write_jsonl(tmp / "alpaca.jsonl", _alpaca(24))), []
    if kind == "xsum":
        import pyarrow as pa
        import pyarrow.parquet as pq

        docs = [
            f"The council met on day {i} and voted to repair the bridge over the river."
            for i in range(24)
        ]
        table = pa.table(
            {
                "document": docs,
                "summary": [f"Bridge repair approved on day {i}." for i in range(24)],
                "id": [str(i) for i in range(24)],
            }
        )
        pq.write_table(table, tmp / "xsum.parquet")
        return str(tmp / "xsum.parquet"), []
    raise AssertionError(kind)


CASES = [
    ("llama2-7b-full-wikitext", "wikitext"),
    ("llama2-13b-full", "alpaca"),
    ("llama31-8b-lora-xsum", "xsum"),
    ("llama2-7b-full-alpaca", "alpaca"),
]


@pytest.fixture(scope="module")
def tiny_llama(tmp_path_factory) -> Path:
    return build_tiny_model(
        tmp_path_factory.mktemp("tiny-llama") / "m", extra_special_tokens=LLAMA3_TOKENS
    )


@pytest.mark.slow
@pytest.mark.parametrize("preset, data_kind", CASES)
@pytest.mark.long
def test_workflow_preset_trains(preset, data_kind, tiny_llama, tmp_path):
    source, extra = _sample_data(data_kind, tmp_path)
    original = resolve_spec(preset)
    spec = resolve_spec(
        preset,
        [
            f"model.name_or_path={tiny_llama}",
            f"data.source={source}",
            "data.subset=null",
            f"output.root={tmp_path / 'runs'}",
            "train.max_steps=3",
            "train.logging_steps=1",
            "train.save_steps=3",
            "train.eval_steps=null" if not extra else "train.eval_steps=2",
            "launch.nproc_per_node=1",
            # accelerate enables FSDP only on GPUs (preflight and the worker refuse it on a
            # CPU rather than fall back silently): the CPU run uses DDP.
            "launch.strategy=ddp",
            *extra,
        ],
    )
    # Everything that defines the workflow is untouched.
    assert spec.method == original.method and spec.template == original.template
    assert spec.data.columns == original.data.columns and spec.data.format == original.data.format
    assert spec.train.optimizer == original.train.optimizer
    assert spec.train.learning_rate == original.train.learning_rate
    assert spec.train.gradient_checkpointing == original.train.gradient_checkpointing
    run_dir = launch(spec)
    status = wait_for_status(run_dir)
    assert status["status"] == "completed", _logs(run_dir)
    events = read_events(run_dir)
    losses = [e["loss"] for e in events if e["type"] == "metrics"]
    assert len(losses) == 3 and all(isinstance(x, float) and x > 0 for x in losses), losses
    if extra:
        assert any(e["type"] == "eval" for e in events), "eval every 2 steps on the held-out rows"
    # the forgetting meter: a full fine-tune's base measured before the first step, LoRA's
    # with the adapter off
    forgetting = next(e for e in events if e["type"] == "forgetting")
    assert forgetting["base_loss"] > 0 and forgetting["tuned_loss"] > 0, forgetting
    final = run_dir / "final"
    weights = "model.safetensors" if spec.method.kind == "full" else "adapter_model.safetensors"
    assert (final / weights).is_file(), sorted(p.name for p in final.iterdir())


def test_8bit_preset_needs_cuda():
    import torch

    if torch.cuda.is_available():
        pytest.skip("has CUDA: the 8-bit path is exercised on GPU machines")
    spec = resolve_spec("llama2-7b-lora8bit-guanaco")
    assert spec.model.quantization == "8bit"
    print("llama2-7b-lora8bit-guanaco: 8-bit loading needs CUDA + bitsandbytes; skipped on CPU")
    from ftui.train.build import _quantization_kwargs

    with pytest.raises(RuntimeError, match="needs a CUDA GPU and bitsandbytes"):
        _quantization_kwargs(spec, torch.float32)


def test_fsdp_is_refused_on_cpu_not_silently_dropped(tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("has CUDA: FSDP runs there")
    from ftui.core.check.preflight import PreflightReport, check_launch

    report = PreflightReport()
    check_launch(resolve_spec("llama2-13b-full"), report)
    assert report.errors and report.errors[0][0] == "launch.strategy"
    assert "needs GPUs" in report.errors[0][1]
