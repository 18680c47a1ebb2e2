"""Segments to token ids and labels with one tokenisation of the whole text.

`apply_chat_template(tokenize=True)` renders the conversation to text and tokenises that text
once (`tokenizer(text, add_special_tokens=False)`). ftui does the same: the segments are
joined into one string, tokenised once with character offsets, and a token is trained when
its characters overlap a trained segment. Tokenising segments one by one would differ at
their seams (on a sentencepiece tokenizer an answer tokenised alone gets a leading `▁`), so
the model would be trained on ids it is never served with.

    enc = encode(spec.template, conv, tokenizer, max_len=spec.data.max_seq_len)
    enc.ids, enc.labels, enc.offsets, enc.length
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ftui.core.prompt.conversation import BOS, EOS, Conversation, Segment
from ftui.core.prompt.templates import render
from ftui.core.spec import TemplateSection

IGNORE = -100  # the label of a masked token (what the loss skips)


@dataclass
class Encoded:
    text: str  # the rendered text the ids are a tokenisation of
    ids: list[int]
    labels: list[int]  # the id where trained, IGNORE where masked
    offsets: list[tuple[int, int]] | None  # each token's characters in text; None: no offsets
    length: int  # tokens before the cut at max_len

    @property
    def truncated(self) -> bool:
        return self.length > len(self.ids)


def segments_text(segments: list[Segment], tokenizer: Any) -> tuple[str, list[tuple[int, int]]]:
    """The segments as one string (BOS/EOS placeholders replaced by the tokenizer's token text,
    dropped where it has none) and the character ranges of the trained ones, merged."""
    bos = getattr(tokenizer, "bos_token", None) or ""
    eos = getattr(tokenizer, "eos_token", None) or ""
    parts: list[str] = []
    trained: list[tuple[int, int]] = []
    pos = 0
    for seg in segments:
        text = seg.text.replace(BOS, bos).replace(EOS, eos)
        if seg.trained and text:
            if trained and trained[-1][1] == pos:
                trained[-1] = (trained[-1][0], pos + len(text))
            else:
                trained.append((pos, pos + len(text)))
        parts.append(text)
        pos += len(text)
    return "".join(parts), trained


def _labels_from_offsets(
    ids: list[int], offsets: list[tuple[int, int]], trained: list[tuple[int, int]]
) -> list[int]:
    """A token is trained when its characters overlap a trained range (a zero-width token when
    it sits inside one). Both lists are in text order, so one sweep does it."""
    labels: list[int] = []
    r = 0
    for tid, (start, end) in zip(ids, offsets, strict=True):
        while r < len(trained) and trained[r][1] <= start:  # that range ended before this token
            r += 1
        hit = r < len(trained) and (
            (start < trained[r][1] and end > trained[r][0])
            or (start == end and trained[r][0] <= start < trained[r][1])
        )
        labels.append(tid if hit else IGNORE)
    return labels


def labels_by_prefix(
    tokenizer: Any, text: str, ids: list[int], trained: list[tuple[int, int]]
) -> list[int]:
    """Labels without offsets (slow tokenizers have none), from prefixes: the text before a
    range's end, tokenised alone, shares its first n ids with the whole text's tokenisation;
    those n tokens lie before that end. A token straddling a range's start or end (the prefix
    tokenised it differently) is trained, as an overlapping token is with offsets. The ids
    stay the one tokenisation's."""
    labels = [IGNORE] * len(ids)

    def before(pos: int) -> tuple[int, bool]:
        """(tokens wholly before pos, whether one straddles pos)."""
        prefix = tokenizer(text[:pos], add_special_tokens=False)["input_ids"]
        n = 0
        while n < min(len(prefix), len(ids)) and prefix[n] == ids[n]:
            n += 1
        return n, len(prefix) > n

    for start, end in trained:
        first = before(start)[0]
        last, straddles = before(end) if end < len(text) else (len(ids), False)
        for i in range(first, min(len(ids), last + int(straddles))):
            labels[i] = ids[i]
    return labels


def encode_segments(segments: list[Segment], tokenizer: Any, max_len: int | None = None) -> Encoded:
    """(ids, labels) of the joined segments, tokenised once; cut at max_len afterwards."""
    text, trained = segments_text(segments, tokenizer)
    offsets: list[tuple[int, int]] | None
    if getattr(tokenizer, "is_fast", False):
        enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        ids = list(enc["input_ids"])
        offsets = [(int(s), int(e)) for s, e in enc["offset_mapping"]]
        labels = _labels_from_offsets(ids, offsets, trained)
    else:  # a slow (pure Python) tokenizer gives no offsets: find the seams by prefixes
        ids = list(tokenizer(text, add_special_tokens=False)["input_ids"])
        offsets = None
        labels = labels_by_prefix(tokenizer, text, ids, trained)
    length = len(ids)
    if max_len is not None and length > max_len:
        ids, labels = ids[:max_len], labels[:max_len]
        offsets = offsets[:max_len] if offsets is not None else None
    return Encoded(text, ids, labels, offsets, length)


def encode(
    spec: TemplateSection,
    conv: Conversation,
    tokenizer: Any,
    gen: bool = False,
    max_len: int | None = None,
) -> Encoded:
    """A conversation through the template and the tokenizer: what is trained (or, with
    gen=True, the prompt the playground sends)."""
    return encode_segments(render(spec, conv, tokenizer, gen=gen), tokenizer, max_len)


def token_pieces(enc: Encoded) -> list[tuple[str, bool]] | None:
    """(text, joined) for each token, from the rendered text: a token whose characters overlap
    the previous one's (the bytes of one emoji split over two byte-level tokens) or that has
    none is joined to it, so a character is shown whole. Characters no token claims (a space
    a sentencepiece `▁` stands for) go with the next token, so the pieces spell the text.
    None without offsets."""
    if enc.offsets is None:
        return None
    out: list[tuple[str, bool]] = []
    cursor = 0
    for i, (start, end) in enumerate(enc.offsets):
        if i and (start < cursor or end <= cursor):
            out.append((enc.text[cursor:end] if end > cursor else "", True))
        else:
            out.append((enc.text[cursor:end], False))
        cursor = max(cursor, end)
    return out
