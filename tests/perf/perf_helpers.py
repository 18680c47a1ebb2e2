"""Plain helpers for the perf tests (tiny corpora, row files, specs)."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

WORDS = (
    "the a model learns to answer questions about rivers cities numbers colours and "
    "short stories while the data has rows of very different lengths so padding matters"
).split()


def sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def corpus(n: int) -> list[str]:
    rng = random.Random(1)
    return [sentence(rng, rng.randint(5, 40)) for _ in range(n)]


def write_rows(path: Path, n: int, seed: int = 0) -> Path:
    """Prompt/response rows with lengths from a few tokens to a few hundred (a long tail)."""
    rng = random.Random(seed)
    with path.open("w") as fh:
        for _ in range(n):
            q = sentence(rng, rng.randint(3, 20))
            a = sentence(rng, int(rng.lognormvariate(2.5, 0.8)) + 1)
            fh.write(json.dumps({"question": q, "answer": a}) + "\n")
    return path


def make_spec(model: Path, data: Path, **train: Any):  # type: ignore[no-untyped-def]
    from ftui.core.spec import spec_from_dict

    return spec_from_dict(
        {
            "name": "perf",
            # fp32: the parity tolerances assume it (auto is bf16 on CPUs with native bf16)
            "model": {"name_or_path": str(model), "dtype": "fp32"},
            "data": {
                "source": str(data),
                "format": "prompt_completion",
                "columns": {"prompt": "question", "response": "answer"},
                "max_seq_len": 256,
            },
            "template": {"name": "chatml"},
            "method": {"kind": "lora", "lora": {"r": 8, "dropout": 0.0}},
            "train": {
                "max_steps": 6,
                "per_device_batch_size": 4,
                "learning_rate": 0.01,
                "logging_steps": 1,
                "save_steps": None,
                "seed": 7,
                **train,
            },
        }
    )


class WorkerParts:
    """The worker's own pieces for `spec` (training args, tokenizer, tokenised train set, model)
    and a `losses` list the trainer's logged losses land in: what the loss tests train with."""

    def __init__(self, spec: Any, out: Path):
        from ftui.core.runs.rundir import RunPaths
        from ftui.train.build import (
            build_datasets,
            build_model,
            build_tokenizer,
            build_training_args,
        )

        self.spec = spec
        self.args = build_training_args(spec, RunPaths(out))
        self.tok, tok_dir = build_tokenizer(spec)
        self.train_ds = build_datasets(spec, self.tok, tok_dir)[0]
        self.model = build_model(spec, self.args)
        self.losses: list[float] = []

    def collator(self) -> Any:
        from ftui.train.build import pick_collator
        from ftui.train.collator import TokenCounter

        return pick_collator(self.spec, self.tok, TokenCounter(), self.model)

    def train(self, data_collator: Any, **trainer_kwargs: Any) -> Any:
        """Train with FtuiTrainer; its per-step losses in `self.losses`. Returns the trainer."""
        from transformers import TrainerCallback

        from ftui.train.trainer import FtuiTrainer

        losses = self.losses

        class Record(TrainerCallback):
            def on_log(self, args, state, control, logs=None, **kw):  # type: ignore[no-untyped-def]
                if logs and "loss" in logs:
                    losses.append(float(logs["loss"]))

        trainer = FtuiTrainer(
            model=self.model,
            args=self.args,
            train_dataset=self.train_ds,
            data_collator=data_collator,
            processing_class=self.tok,
            callbacks=[Record()],
            **trainer_kwargs,
        )
        trainer.train()
        assert len(losses) == self.spec.train.max_steps
        return trainer
