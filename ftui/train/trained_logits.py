"""Logits only where labels are trained: the lm_head and the loss on the trained rows alone.

A causal LM's plain forward computes the logits of every position (batch x seq x vocab, the
largest activation of a small model with a 49k-150k vocabulary), then the loss ignores every
position whose shifted label is -100: the prompt, the padding, the first token of each packed
row. Here the model runs unchanged, but a forward pre-hook hands its lm_head only the hidden
states of the positions whose next token is trained, and the loss is transformers' own
`fixed_cross_entropy` (fp32, summed and divided by `num_items_in_batch`, as `ForCausalLMLoss`)
on just those rows. The model is still called through its wrappers (DDP's gradient hooks, PEFT's
adapters), so only the lm_head's input changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# Causal LMs whose forward, without labels, is `lm_head(hidden_states)` followed only by
# elementwise ops (Gemma2/3's final_logit_softcapping, Granite's logits_scaling, Cohere's
# logit_scale), checked in transformers 5.24's modeling files: on the trained rows alone these
# give exactly those rows of the full logits. Not here: MoE models (Mixtral, Qwen3-MoE) add their
# router loss only when labels are passed, and any class not read yet: those take the plain path.
EXACT_HEADS = frozenset(
    {
        "LlamaForCausalLM",
        "MistralForCausalLM",
        "Qwen2ForCausalLM",
        "Qwen3ForCausalLM",
        "GemmaForCausalLM",
        "Gemma2ForCausalLM",
        "Gemma3ForCausalLM",
        "Phi3ForCausalLM",
        "SmolLM3ForCausalLM",
        "GraniteForCausalLM",
        "CohereForCausalLM",
        "Olmo2ForCausalLM",
    }
)


def exact_causal_lm(unwrapped: Any) -> Any | None:
    """The transformers causal LM inside a PEFT wrapper (or the model itself), when its head is
    one `EXACT_HEADS` vouches for and its loss is the plain causal-LM cross-entropy."""
    from transformers.loss.loss_utils import ForCausalLMLoss
    from transformers.trainer_utils import unwrap_peft_model

    lm = unwrap_peft_model(unwrapped)
    if (
        type(lm).__name__ not in EXACT_HEADS
        or getattr(lm, "loss_function", None) is not ForCausalLMLoss
    ):
        return None
    return lm


def trained_rows(labels: Any) -> tuple[Any, Any]:
    """(keep, targets): keep[b, t] is True where position t predicts a trained token (its shifted
    label labels[b, t+1] is not -100); targets are those labels, in the same row-major order."""
    import torch

    nxt = labels[..., 1:]
    keep = torch.zeros_like(labels, dtype=torch.bool)
    keep[..., :-1] = nxt.ne(-100)
    return keep, nxt[keep[..., :-1]]


@contextmanager
def head_on_rows(lm_head: Any, keep: Any) -> Iterator[None]:
    """While inside, `lm_head` sees only hidden[keep] (rows x hidden) instead of the whole
    batch x seq x hidden tensor, so the model's logits are those rows' logits."""

    def select(module: Any, args: tuple[Any, ...]) -> tuple[Any, ...]:
        return (args[0][keep], *args[1:])

    handle = lm_head.register_forward_pre_hook(select)
    try:
        yield
    finally:
        handle.remove()


def trained_rows_loss(model: Any, lm: Any, inputs: dict[str, Any], num_items: Any) -> Any:
    """The plain causal-LM loss of `inputs`, computed on the trained rows only: `model` is what
    the Trainer calls (wrappers included), `lm` the causal LM inside it (`exact_causal_lm`),
    `num_items` the accumulated batch's trained tokens (None: the mean over this batch's)."""
    from transformers.loss.loss_utils import fixed_cross_entropy

    keep, targets = trained_rows(inputs["labels"])
    rest = {k: v for k, v in inputs.items() if k != "labels"}
    with head_on_rows(lm.get_output_embeddings(), keep):
        outputs = model(**rest)
    # fp32 like ForCausalLMLoss: bf16 logits would round the log-softmax.
    return fixed_cross_entropy(outputs.logits.float(), targets, num_items)
