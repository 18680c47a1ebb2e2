"""The one way ftui loads a tokenizer: the preflight, the mask lens, the worker, the memory
probe, the playground and export all call `load_tokenizer`, so they tokenise alike."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def load_tokenizer(
    ref: str | Path, revision: str | None = None, trust_remote_code: bool = False
) -> Any:
    """The tokenizer at `ref` (a local directory or a hub id, already resolved from a
    `builtin:` name), with a pad token.

    A tokenizer without one (Llama's) gets its EOS as the pad token: batches need a pad id,
    and the collator sets the labels on padding to -100, so padding is never trained.
    Errors are transformers' own (offline, gated, missing files); callers word them.
    """
    # The submodule, not `from transformers import ...`: transformers' lazy top-level
    # attribute lookup is not thread-safe, and the wizard loads tokenizers from worker
    # threads while other workers import transformers too.
    from transformers.models.auto.tokenization_auto import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(
        str(ref), revision=revision, trust_remote_code=trust_remote_code
    )
    if tokenizer.pad_token_id is None and tokenizer.eos_token is not None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer
