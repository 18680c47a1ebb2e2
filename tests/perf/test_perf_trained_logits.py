"""Logits only where labels are trained (`ftui.train.trained_logits`) keeps the plain path's
losses and gradients: same data, same seed, the same steps with the lever on and off.

Tolerance: fp32 on the CPU, the two paths differ only in the order of float sums (the lm_head's
matmul and the loss's sum run over fewer rows), about 1e-7 relative per op; over a few steps of
a learning rate of 0.01 that stays under 1e-5 relative in the loss and 1e-4 in the weights.
A wrong normalisation (mean instead of sum / num_items_in_batch, a missed accumulation divide, an
off-by-one shift) moves the loss by percent, far outside it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .perf_helpers import WorkerParts, make_spec, write_rows

LOSS_TOLERANCE = 1e-5
WEIGHT_TOLERANCE = 1e-4


class CountingCollator:
    """The worker's collator, remembering how many positions of each batch predict a trained
    token (shifted label not -100): what the lm_head must see with the lever on."""

    def __init__(self, inner: Any):
        self.inner = inner
        self.trained: list[int] = []

    def __call__(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        batch = self.inner(rows)
        self.trained.append(int(batch["labels"][..., 1:].ne(-100).sum()))
        return batch


def train(spec: Any, out: Path, on: bool) -> dict[str, Any]:
    """Train `spec` with the lever on or off: per-step losses, the trainable weights after, the
    rows the lm_head saw in each forward, and the trained positions of each batch."""
    w = WorkerParts(spec, out)
    collator = CountingCollator(w.collator())
    head_rows: list[int] = []
    head = w.model.get_output_embeddings()
    # the rows of the logits it returns: a pre-hook here would run before the lever's own
    head.register_forward_hook(lambda m, a, out: head_rows.append(out.shape[:-1].numel()))
    trainer = w.train(collator, logits_on_trained_only=on)
    weights = {
        k: p.detach().clone() for k, p in trainer.model.named_parameters() if p.requires_grad
    }
    losses = w.losses
    return {"losses": losses, "weights": weights, "head": head_rows, "trained": collator.trained}


def assert_same_training(on: dict[str, Any], off: dict[str, Any], learned: bool = True) -> None:
    for step, (x, y) in enumerate(zip(on["losses"], off["losses"], strict=True), 1):
        assert abs(x - y) <= LOSS_TOLERANCE * max(1.0, abs(y)), f"step {step}: {x} vs {y}"
    assert on["weights"].keys() == off["weights"].keys() and on["weights"]
    for name, w in on["weights"].items():
        ref = off["weights"][name]
        err = float((w - ref).abs().max())
        assert err <= WEIGHT_TOLERANCE * max(1.0, float(ref.abs().max())), f"{name}: {err}"
    if learned:  # a zero learning rate would also "match"
        assert on["losses"][-1] < on["losses"][0]


def assert_head_saw_trained_rows_only(on: dict[str, Any], off: dict[str, Any]) -> None:
    """Lever on: one lm_head call per batch, on exactly its trained positions (a silent fall
    back to the plain path would show every position). Off: every position, more rows."""
    # the data loader collates one batch ahead: the last count may be a batch never trained on
    assert on["head"] == on["trained"][: len(on["head"])], (on["head"], on["trained"])
    assert sum(off["head"]) > sum(on["head"])


@pytest.mark.parametrize(
    ("accumulation", "packing", "checkpointing", "head_saved"),
    [(1, False, False, False), (2, False, True, False), (1, True, False, True)],
    ids=["padded", "accumulation-2+checkpointing", "packed+lm_head-in-modules_to_save"],
)
def test_trained_rows_keep_the_losses_and_weights_of_the_plain_path(
    tiny_model: Path,
    rows_file: Path,
    tmp_path: Path,
    accumulation: int,
    packing: bool,
    checkpointing: bool,
    head_saved: bool,
) -> None:
    """LoRA through PEFT; gradient checkpointing recomputes the body; a trained copy of the
    lm_head (modules_to_save) puts PEFT's wrapper where the head was."""
    spec = make_spec(
        tiny_model,
        rows_file,
        max_steps=3,
        gradient_accumulation_steps=accumulation,
        gradient_checkpointing=checkpointing,
    )
    spec.data.packing = packing
    spec.method.lora.modules_to_save = ["lm_head"] if head_saved else []
    on = train(spec, tmp_path / "on", True)
    off = train(spec, tmp_path / "off", False)
    assert_same_training(on, off)
    assert_head_saw_trained_rows_only(on, off)
    assert len(on["head"]) == 3 * accumulation  # one lm_head call per batch
    if head_saved:
        assert any("modules_to_save" in k and "lm_head" in k for k in on["weights"])


def test_full_fine_tuning_keeps_the_losses_and_weights(
    tiny_model: Path, rows_file: Path, tmp_path: Path
) -> None:
    """No PEFT wrapper: the Trainer holds the causal LM itself, every weight trains."""
    spec = make_spec(tiny_model, rows_file, max_steps=3, learning_rate=1e-3)
    spec.method.kind = "full"
    on = train(spec, tmp_path / "on", True)
    off = train(spec, tmp_path / "off", False)
    assert_same_training(on, off)
    assert_head_saw_trained_rows_only(on, off)


def test_smollm2_shape_tied_embeddings_keeps_the_losses(tmp_path: Path, one_thread: None) -> None:
    """The real SmolLM2-135M (llama, tied embeddings, vocab 49152), LoRA on its default targets,
    short rows, two steps with accumulation 2 (two steps on different rows: the loss need not
    fall, the weights must still match)."""
    from ftui.core.model import artefacts
    from tests.real_artefacts import SMOLLM2, artefact_path

    artefact_path(SMOLLM2)
    rows = write_rows(tmp_path / "rows.jsonl", 16, seed=3)
    spec = make_spec(
        artefacts.path(SMOLLM2),
        rows,
        max_steps=2,
        per_device_batch_size=1,
        gradient_accumulation_steps=2,
        learning_rate=1e-3,
    )
    spec.data.max_seq_len = 32
    on = train(spec, tmp_path / "on", True)
    off = train(spec, tmp_path / "off", False)
    assert_same_training(on, off, learned=False)
    assert_head_saw_trained_rows_only(on, off)


@pytest.fixture
def one_thread() -> Any:
    """One torch thread: on a shared 2-core machine two threads of a 135M model contend (a step
    takes ten times longer)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _tiny(model_type: str) -> Any:
    """A random two-layer model of `model_type` at toy size, fp32."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    size = dict(
        vocab_size=97,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=8,
        tie_word_embeddings=model_type == "gemma2",
        pad_token_id=0,
        bos_token_id=1,
        eos_token_id=2,
    )
    extra: dict[str, Any] = {
        "gemma2": {"final_logit_softcapping": 3.0, "attn_logit_softcapping": 50.0},
        "gemma3_text": {"final_logit_softcapping": 3.0},
        "granite": {"logits_scaling": 4.0},
        "cohere": {"logit_scale": 0.5},
    }.get(model_type, {})
    config = AutoConfig.for_model(model_type, **size, **extra)
    torch.manual_seed(0)
    return AutoModelForCausalLM.from_config(config, dtype=torch.float32)


EXACT_TYPES = {
    "LlamaForCausalLM": "llama",
    "MistralForCausalLM": "mistral",
    "Qwen2ForCausalLM": "qwen2",
    "Qwen3ForCausalLM": "qwen3",
    "GemmaForCausalLM": "gemma",
    "Gemma2ForCausalLM": "gemma2",
    "Gemma3ForCausalLM": "gemma3_text",
    "Phi3ForCausalLM": "phi3",
    "SmolLM3ForCausalLM": "smollm3",
    "GraniteForCausalLM": "granite",
    "CohereForCausalLM": "cohere",
    "Olmo2ForCausalLM": "olmo2",
}


def test_every_vouched_for_class_is_tested() -> None:
    from ftui.train.trained_logits import EXACT_HEADS

    assert set(EXACT_TYPES) == EXACT_HEADS


@pytest.mark.parametrize("cls", sorted(EXACT_TYPES))
def test_each_vouched_for_architecture_gives_the_plain_loss_and_gradient(cls: str) -> None:
    """The model's own forward (softcapping, logit scaling) on the trained rows equals the plain
    forward with labels: the loss and every parameter's gradient, with num_items_in_batch."""
    import torch

    from ftui.train.trained_logits import exact_causal_lm, trained_rows_loss

    model = _tiny(EXACT_TYPES[cls])
    assert type(model).__name__ == cls and exact_causal_lm(model) is model
    gen = torch.Generator().manual_seed(1)
    ids = torch.randint(3, 97, (3, 20), generator=gen)
    labels = ids.clone()
    labels[:, :7] = -100  # the prompt
    labels[2, 15:] = -100  # padding
    mask = torch.ones_like(ids)
    mask[2, 15:] = 0
    items = labels[:, 1:].ne(-100).sum() + 5  # as if other accumulated batches had 5 more

    def grads() -> list[torch.Tensor]:
        out = [p.grad.clone() for p in model.parameters()]
        model.zero_grad()
        return out

    plain = model(input_ids=ids, attention_mask=mask, labels=labels, num_items_in_batch=items)
    plain.loss.backward()
    plain_grads = grads()
    loss = trained_rows_loss(
        model, model, {"input_ids": ids, "attention_mask": mask, "labels": labels}, items
    )
    loss.backward()
    torch.testing.assert_close(loss, plain.loss, rtol=1e-5, atol=1e-6)
    for got, want in zip(grads(), plain_grads, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-6)


def test_a_class_not_vouched_for_takes_the_plain_path() -> None:
    """MoE models add their router loss only with labels: the lever must not touch them."""
    from ftui.train.trained_logits import exact_causal_lm

    assert exact_causal_lm(_tiny("mixtral")) is None


@pytest.mark.long
def test_ddp_ranks_keep_the_losses_and_weights(
    tiny_model: Path, rows_file: Path, tmp_path: Path
) -> None:
    """Two real DDP ranks (torchrun, gloo): the model is wrapped, each rank's batches differ
    and num_items_in_batch counts both ranks' tokens, so the loss is scaled by the world size
    as in Trainer.compute_loss. Losses, weights and the lm_head's rows as on one rank."""
    import json
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root), "OMP_NUM_THREADS": "1"}
    argv = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2"]
    argv += ["-m", "tests.perf.ddp_trained_logits", str(tiny_model), str(rows_file), str(tmp_path)]
    log = tmp_path / "torchrun.log"
    with log.open("w") as fh:
        done = subprocess.run(
            argv,
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=fh,
            stderr=subprocess.STDOUT,
            timeout=600,
        )
    assert done.returncode == 0, log.read_text()[-3000:]
    for rank in (0, 1):
        r = json.loads((tmp_path / f"rank{rank}.json").read_text())
        for x, y in zip(r["losses"], r["off_losses"], strict=True):
            assert abs(x - y) <= LOSS_TOLERANCE * max(1.0, abs(y)), (rank, r)
        assert r["weight_diff"] <= WEIGHT_TOLERANCE, (rank, r)
        assert r["head"] == r["trained"][: len(r["head"])] and len(r["head"]) == 6, (rank, r)
        assert sum(r["off_head"]) > sum(r["head"])
