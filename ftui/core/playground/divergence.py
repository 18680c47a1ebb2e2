"""Why a runtime's greedy answer left the trained model's: a near-tie or a broken conversion.

Greedy decoding takes the likeliest token; where the trained model's two best tokens are close,
a runtime's own arithmetic (q8_0 weights, llama.cpp's quantised dot products, another matmul
order) can tip it to the other one, and from there the answers part. Measured on the real
SmolLM2-135M-Instruct: asked "What is the capital of France?", transformers gives 'The' p 0.152
and 'L' p 0.140; the q8_0 GGUF in llama.cpp gives 'L' 0.135 and 'The' 0.122, then a different
answer. That is no conversion error. A runtime that picks a token the trained model finds
unlikely computes something else: that one is.

`divergence` teacher-forces the trained model on the prompt and the answer up to the first
token where the two answers part, and returns both tokens' probabilities there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# The runtime's token counts as a near-tie when the trained model gives it at least this share
# of the probability of its own choice (0.140 / 0.152 = 0.92 above; a wrong conversion's token
# is typically orders of magnitude below).
NEAR_TIE_RATIO = 0.5


@dataclass(frozen=True)
class Divergence:
    position: int  # answer tokens before the parting one
    chosen: str  # the trained model's token (what ftui chat answered)
    chosen_p: float
    other: str  # the runtime's token
    other_p: float  # its probability under the trained model

    @property
    def near_tie(self) -> bool:
        return self.chosen_p > 0 and self.other_p >= NEAR_TIE_RATIO * self.chosen_p

    def line(self) -> str:
        where = (
            f"at answer token {self.position + 1}: ftui chat {self.chosen!r} "
            f"(p {self.chosen_p:.3f}) vs {self.other!r} (p {self.other_p:.3f} under the trained "
            "model)"
        )
        if self.near_tie:
            return (
                f"{where}: a near-tie, tipped by the runtime's arithmetic (quantised weights, "
                "another matmul order), not a conversion error"
            )
        return (
            f"{where}: the runtime chose a token the trained model finds unlikely; the "
            "conversion is suspect (re-export; compare with an f16 export)"
        )


def divergence(
    model: Any, tokenizer: Any, prompt_ids: list[int], answer_ids: list[int], other: str
) -> Divergence | None:
    """Where `other` (a runtime's answer text, stripped) parts from the trained model's answer
    (`answer_ids`, its greedy tokens after `prompt_ids`); None when they do not part."""
    import torch

    full = str(tokenizer.decode(answer_ids, skip_special_tokens=True))
    lead = len(full) - len(full.lstrip())
    reference = full.strip()
    if other == reference:
        return None
    common = next(
        (i for i, (a, b) in enumerate(zip(reference, other, strict=False)) if a != b),
        min(len(reference), len(other)),
    )

    def upto(n: int) -> int:  # characters of the reference the first n tokens spell
        return len(str(tokenizer.decode(answer_ids[:n], skip_special_tokens=True))) - lead

    ends = [upto(i + 1) for i in range(len(answer_ids))]
    # The first reference token whose text reaches past the shared characters; where none does
    # (the runtime went on after the reference's answer), the reference's stop token parts.
    k = next((i for i, e in enumerate(ends) if e > common), None)
    if k is None:
        k = next((i + 1 for i, e in enumerate(ends) if e >= len(reference)), len(answer_ids))
    start = max(0, upto(k)) if k < len(answer_ids) else len(reference)
    rest = (full[:lead] if start == 0 else "") + other[start:]
    other_ids = tokenizer(rest, add_special_tokens=False).input_ids if rest else []
    # Past the reference's last token (it stopped, the runtime went on): its stop token parts.
    chosen_id = answer_ids[k] if k < len(answer_ids) else tokenizer.eos_token_id
    other_id = other_ids[0] if other_ids else tokenizer.eos_token_id
    if chosen_id is None or other_id is None:
        return None
    device = next(model.parameters()).device
    context = torch.tensor([prompt_ids + answer_ids[:k]], dtype=torch.long, device=device)
    with torch.no_grad():
        logits = model(input_ids=context, attention_mask=torch.ones_like(context)).logits[0, -1]
    probs = torch.softmax(logits.float(), dim=-1)
    return Divergence(
        position=k,
        chosen=str(tokenizer.decode([chosen_id])),
        chosen_p=float(probs[chosen_id]),
        other=str(tokenizer.decode([other_id])),
        other_p=float(probs[other_id]),
    )
