"""Batch collation without padding to max_length.

`DynamicPadCollator` pads each batch to its own longest row (rounded up to a multiple of 8 on
GPUs for tensor cores). `PackingCollator` concatenates the rows of a batch into one sequence
with position_ids that restart at every row: attention implementations that honour
position_ids (flash-attention-2, and sdpa/eager through transformers' packed-sequence masks)
keep the rows apart, and the first token of every row carries no label, so no row learns to
predict across a boundary. Whether the model's attention really keeps packed rows apart is
checked on the model (`ftui.train.packing_check`); where it does not, the worker pads instead.
Both count real (non-padding) tokens and causal attention pairs, for tokens/s and MFU.
"""

from __future__ import annotations

from typing import Any


class TokenCounter:
    """Real tokens seen by this rank since the last `take()`. Plain ints: no device sync."""

    def __init__(self) -> None:
        self.real = 0
        self.padded = 0
        self.samples = 0
        self.pairs = 0  # causal (query, key) pairs of the real tokens: the attention FLOPs term

    def take(self) -> tuple[int, int, int]:
        """(real, padded, samples) since the last take; read `pairs` before calling it."""
        out = (self.real, self.padded, self.samples)
        self.real = self.padded = self.samples = self.pairs = 0
        return out


class DynamicPadCollator:
    def __init__(self, pad_id: int, counter: TokenCounter, multiple_of: int = 1):
        self.pad_id = pad_id
        self.counter = counter
        self.multiple_of = multiple_of

    def __call__(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        import torch

        longest = max(len(r["input_ids"]) for r in rows)
        if self.multiple_of > 1:
            longest = -(-longest // self.multiple_of) * self.multiple_of
        ids = torch.full((len(rows), longest), self.pad_id, dtype=torch.long)
        labels = torch.full((len(rows), longest), -100, dtype=torch.long)
        mask = torch.zeros((len(rows), longest), dtype=torch.long)
        real = pairs = 0
        for i, r in enumerate(rows):
            n = len(r["input_ids"])
            ids[i, :n] = torch.tensor(r["input_ids"], dtype=torch.long)
            labels[i, :n] = torch.tensor(r["labels"], dtype=torch.long)
            mask[i, :n] = 1
            real += n
            pairs += n * (n + 1) // 2
        self.counter.real += real
        self.counter.pairs += pairs
        self.counter.padded += len(rows) * longest
        self.counter.samples += len(rows)
        # Padding never carries a label, also when the pad token is the EOS token:
        # labels start as -100 everywhere and only real positions are copied in.
        return {"input_ids": ids, "labels": labels, "attention_mask": mask}


class PackingCollator:
    def __init__(self, counter: TokenCounter):
        self.counter = counter

    def __call__(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        import torch

        ids: list[int] = []
        labels: list[int] = []
        positions: list[int] = []
        for r in rows:
            n = len(r["input_ids"])
            ids.extend(r["input_ids"])
            labels.extend([-100] + list(r["labels"][1:]))
            positions.extend(range(n))
            self.counter.pairs += n * (n + 1) // 2
        self.counter.real += len(ids)
        self.counter.padded += len(ids)
        self.counter.samples += len(rows)
        return {
            "input_ids": torch.tensor([ids], dtype=torch.long),
            "labels": torch.tensor([labels], dtype=torch.long),
            "position_ids": torch.tensor([positions], dtype=torch.long),
        }
