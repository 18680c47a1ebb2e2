"""The mask lens: real rows rendered through the template and the tokenizer, token by token,
each token trained or masked, plus the statistics that catch a bad setup before a launch.

`build_lens(rows, det, spec, tokenizer)` -> `Lens(rows=[LensRow], stats=RowStats)`.
Tokens come from exactly the code the worker trains with (`encode.encode`: the template's
text tokenised once), and the statistics are the worker's own `RowStats`, so what the lens
shows is what is trained, and its counts are the run's `plan`. Each token's text is its
characters in the rendered text, so an accent or an emoji split over byte-level tokens shows
whole (the tokens after the first are `joined` to it) instead of as `��`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ftui.core.data.row_stats import RowStats
from ftui.core.spec import RunSpec

SAMPLE_TEXT_BYTES = 8 << 20  # the statistics tokenise at most about this much text


@dataclass
class LensToken:
    id: int
    text: str
    trained: bool
    special: bool = False
    eos: bool = False
    joined: bool = False  # shares its characters with the token before (one emoji, two tokens)


@dataclass
class LensRow:
    index: int
    tokens: list[LensToken]  # what is trained on: cut at max_seq_len
    length: int  # tokens before the cut
    cut: int
    empty_prompt: bool = False
    empty_response: bool = False
    error: str | None = None
    preview: str = ""  # the start of the row's text, for messages
    text_bytes: int = 0

    @property
    def truncated(self) -> bool:
        return self.length > self.cut

    @property
    def trained(self) -> int:
        return sum(t.trained for t in self.tokens)


@dataclass
class Lens:
    rows: list[LensRow]
    stats: RowStats


def _token_texts(tokenizer: Any, ids: list[int]) -> list[str]:
    """Each token decoded alone: only for tokenizers without offsets (split characters
    then show as replacement characters)."""
    return list(tokenizer.batch_decode([[i] for i in ids], skip_special_tokens=False))


def lens_row(
    row: dict[str, Any], index: int, det: Any, spec: RunSpec, tokenizer: Any, tokens: bool = True
) -> LensRow:
    """One row through template + tokenizer. Template errors are kept on the row, not raised;
    a row over data.max_row_bytes raises DataError."""
    from ftui.core.data.dataset import check_row_size, empty_parts, row_to_conversation
    from ftui.core.prompt.conversation import TemplateTooCostly
    from ftui.core.prompt.encode import encode, token_pieces
    from ftui.core.prompt.templates import TemplateError

    cut = spec.data.max_seq_len
    conv = row_to_conversation(row, det)
    size = check_row_size(conv, index, spec.data.max_row_bytes)  # raises DataError
    empty_p, empty_r = empty_parts(conv, det)
    if conv.text is not None:
        preview = conv.text
    else:
        texts = [m.content for m in conv.turns if m.role == "user"]
        texts = texts or [m.content for m in conv.turns if m.role == "assistant"]
        preview = (texts or [""])[0]
    preview = " ".join(preview.split())[:80]
    try:
        enc = encode(spec.template, conv, tokenizer, max_len=cut)
    except TemplateTooCostly:
        raise
    except TemplateError as exc:
        return LensRow(index, [], 0, cut, empty_p, empty_r, str(exc), preview, size)
    shown, labels = enc.ids, enc.labels
    out: list[LensToken] = []
    if tokens:
        special = set(getattr(tokenizer, "all_special_ids", []) or [])
        eos = tokenizer.eos_token_id
        pieces = token_pieces(enc) or [(t, False) for t in _token_texts(tokenizer, shown)]
        for tid, (text, joined), lab in zip(shown, pieces, labels, strict=True):
            out.append(LensToken(tid, text, lab != -100, tid in special, tid == eos, joined))
    else:
        out = [LensToken(t, "", lab != -100) for t, lab in zip(shown, labels, strict=True)]
    return LensRow(index, out, enc.length, cut, empty_p, empty_r, None, preview, size)


def build_lens(
    rows: Iterable[dict[str, Any]], det: Any, spec: RunSpec, tokenizer: Any, show: int = 5
) -> Lens:
    """Statistics over `rows` (stopping once about SAMPLE_TEXT_BYTES of text is tokenised);
    the first `show` rows are kept with their tokens' text."""
    stats = RowStats(max_seq_len=spec.data.max_seq_len)
    kept: list[LensRow] = []
    text = 0
    for i, row in enumerate(rows):
        if text > SAMPLE_TEXT_BYTES and i >= show:  # statistics over the rows read so far
            break
        lr = lens_row(row, i, det, spec, tokenizer, tokens=i < show)
        error = lr.error is not None
        stats.add(
            i, lr.length, len(lr.tokens), lr.trained, lr.empty_prompt, lr.empty_response, error
        )
        text += lr.text_bytes
        if i < show:
            kept.append(lr)
    return Lens(kept, stats)
