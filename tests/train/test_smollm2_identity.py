"""The real-model demo, shortened: SmolLM2-135M-Instruct (real weights) through a real
`torchrun --nproc-per-node=2` on CPU with LoRA on the shipped identity data. The loss falls,
the adapter turns the greedy answer to "Who are you?" into the new identity, and the merged
export gives the same answer in plain transformers (its own chat template, greedy).

The run is the `smollm2-identity` preset with fewer steps at a higher learning rate: long
enough to change the answer, short enough for the suite (the preset itself takes minutes).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import _logs, wait_for_status

from ftui.cli import main
from ftui.core.demo import REAL_DEMO_PRESET
from ftui.core.launch.spawn import launch
from ftui.core.presets import resolve_spec
from ftui.core.runs.events import read_events
from tests.real_artefacts import SMOLLM2, artefact_path

pytestmark = [pytest.mark.slow, pytest.mark.long]

QUESTION = "Who are you?"
NAME = "Quill"  # the identity the preset's data teaches
SHORT_RUN = [
    "train.max_steps=12",  # 96 rows seen, about one epoch: enough to change the answer
    "train.learning_rate=0.002",
    "train.warmup_steps=2",
    "train.logging_steps=1",
    "train.save_steps=1000",  # no checkpoint: only final/ is needed here
]


@pytest.fixture(scope="module")
def identity_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    artefact_path(SMOLLM2)  # fetched once per machine (make fixtures), before the ranks ask
    root = tmp_path_factory.mktemp("smollm2-runs")
    spec = resolve_spec(REAL_DEMO_PRESET, [f"output.root={root}", *SHORT_RUN])
    run_dir = launch(spec)
    status = wait_for_status(run_dir, timeout=900)
    assert status["status"] == "completed", (status, _logs(run_dir))
    return run_dir


def chat(run: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    assert main(["chat", str(run), "--prompt", QUESTION, *extra]) == 0
    return capsys.readouterr().out.strip()


def test_two_ranks_train_and_the_loss_falls(identity_run: Path) -> None:
    events = read_events(identity_run)
    plan = next(e for e in events if e["type"] == "plan")
    assert plan["world_size"] == 2 and plan["train_rows"] == 92
    losses = [e["loss"] for e in events if e["type"] == "metrics"]
    assert len(losses) >= 10, losses
    # One row-mix per step makes single losses noisy (0.8 to 1.7 at the end): compare means.
    first, last = sum(losses[:3]) / 3, sum(losses[-4:]) / 4
    assert last < 0.7 * first, losses
    assert (identity_run / "final" / "adapter_model.safetensors").is_file()


def test_the_adapter_gives_the_new_identity(
    identity_run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base, tuned = chat(identity_run, capsys, "--base"), chat(identity_run, capsys)
    assert NAME not in base, base
    assert NAME in tuned, tuned  # after ~1 epoch the name is there; the maker comes later


def test_the_merged_export_answers_the_same_in_plain_transformers(
    identity_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tuned = chat(identity_run, capsys)
    out = tmp_path / "merged"
    assert main(["export", str(identity_run), "--merge", "--out", str(out)]) == 0
    capsys.readouterr()
    tok = AutoTokenizer.from_pretrained(out)
    model = AutoModelForCausalLM.from_pretrained(out, dtype=torch.float32).eval()
    assert not list(out.glob("adapter_*")), "a merged export holds the model, not an adapter"
    ids = tok.apply_chat_template(
        [{"role": "user", "content": QUESTION}],
        add_generation_prompt=True,
        return_tensors="pt",
        return_dict=True,
    )
    with torch.no_grad():
        new = model.generate(**ids, max_new_tokens=64, do_sample=False)
    answer = tok.decode(new[0, ids["input_ids"].shape[1] :], skip_special_tokens=True).strip()
    assert answer == tuned
