"""ftui's fast data paths keep the losses of the plain path: same data, same seed, same steps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ftui.train.collator import DynamicPadCollator, TokenCounter

from .perf_helpers import WorkerParts, make_spec

# fp32 on the CPU: only the order of float sums differs between the paths.
TOLERANCE = 1e-4


class PadToMaxLength:
    """The plain recipe's batches: every row padded to max_seq_len (reference only)."""

    def __init__(self, pad_id: int, length: int):
        self.inner = DynamicPadCollator(pad_id, TokenCounter())
        self.length = length

    def __call__(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        filler = {"input_ids": [self.inner.pad_id] * self.length, "labels": [-100] * self.length}
        batch = self.inner(rows + [filler])  # pads every row to `length`
        return {k: v[:-1] for k, v in batch.items()}


def train_losses(spec, tmp: Path, collator: str) -> list[float]:  # type: ignore[no-untyped-def]
    w = WorkerParts(spec, tmp)
    if collator == "max_length":
        data_collator = PadToMaxLength(w.tok.pad_token_id, spec.data.max_seq_len)
    else:
        data_collator = w.collator()
    w.train(data_collator)
    return w.losses


def _close(a: list[float], b: list[float]) -> None:
    for step, (x, y) in enumerate(zip(a, b, strict=True), 1):
        assert abs(x - y) <= TOLERANCE * max(1.0, abs(y)), f"step {step}: {x} vs {y}"


def test_dynamic_padding_keeps_the_losses_of_padding_to_max_length(
    tiny_model: Path, rows_file: Path, tmp_path: Path
) -> None:
    spec = make_spec(tiny_model, rows_file)
    fast = train_losses(spec, tmp_path / "a", "ftui")
    plain = train_losses(spec, tmp_path / "b", "max_length")
    _close(fast, plain)
    assert fast[-1] < fast[0]  # it did learn (a learning rate of 0 would also "match")


def test_packing_keeps_the_losses_of_padding(
    tiny_model: Path, rows_file: Path, tmp_path: Path
) -> None:
    padded = train_losses(make_spec(tiny_model, rows_file), tmp_path / "a", "ftui")
    spec = make_spec(tiny_model, rows_file)
    spec.data.packing = True
    packed = train_losses(spec, tmp_path / "b", "ftui")
    _close(packed, padded)


def test_same_seed_same_losses(tiny_model: Path, rows_file: Path, tmp_path: Path) -> None:
    spec = make_spec(tiny_model, rows_file, max_steps=3)
    _close(train_losses(spec, tmp_path / "a", "ftui"), train_losses(spec, tmp_path / "b", "ftui"))


def test_resume_replays_the_same_batches(tiny_model: Path, rows_file: Path, tmp_path: Path) -> None:
    """Stop after the checkpoint at step 3 and resume: steps 4-6 see the same batches (the
    sampler's order depends on seed and epoch only), so the losses match the straight run."""
    from transformers import TrainerCallback

    from ftui.core.runs.rundir import RunPaths
    from ftui.train.build import build_datasets, build_model, build_tokenizer, build_training_args
    from ftui.train.trainer import FtuiTrainer

    spec = make_spec(tiny_model, rows_file, save_steps=3)

    def run(out: Path, stop_at: int | None, resume: str | None) -> dict[int, float]:
        losses: dict[int, float] = {}

        class Record(TrainerCallback):
            def on_log(self, args, state, control, logs=None, **kw):  # type: ignore[no-untyped-def]
                if logs and "loss" in logs:
                    losses[state.global_step] = float(logs["loss"])

            def on_save(self, args, state, control, **kw):  # type: ignore[no-untyped-def]
                if stop_at and state.global_step >= stop_at:
                    control.should_training_stop = True

        args = build_training_args(spec, RunPaths(out))
        tok, tok_dir = build_tokenizer(spec)
        train_ds = build_datasets(spec, tok, tok_dir)[0]
        trainer = FtuiTrainer(
            model=build_model(spec, args),
            args=args,
            train_dataset=train_ds,
            data_collator=DynamicPadCollator(tok.pad_token_id, TokenCounter()),
            processing_class=tok,
            callbacks=[Record()],
        )
        trainer.train(resume_from_checkpoint=resume)
        return losses

    straight = run(tmp_path / "a", None, None)
    first = run(tmp_path / "b", 3, None)
    assert max(first) == 3
    resumed = run(tmp_path / "b", None, str(tmp_path / "b" / "checkpoints" / "checkpoint-3"))
    assert sorted(resumed) == [4, 5, 6]
    _close([resumed[s] for s in (4, 5, 6)], [straight[s] for s in (4, 5, 6)])
