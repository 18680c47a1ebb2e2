"""Tokenised data is cached under the data fingerprint: a relaunch or resume does not tokenise
again, and any change to what the tokens are made of misses the cache."""

from __future__ import annotations

import os
from pathlib import Path

from ftui.core import locations

from .perf_helpers import corpus, make_spec, write_rows


def _build(spec):  # type: ignore[no-untyped-def]
    from ftui.train.build import build_datasets, build_tokenizer

    tok, tok_dir = build_tokenizer(spec)
    train, _, stats, fp = build_datasets(spec, tok, tok_dir)
    return train, stats, fp


def _from_cache(ds) -> bool:  # type: ignore[no-untyped-def]
    """A freshly tokenised dataset lives in memory; one read back from the cache is backed by
    arrow files inside the token cache."""
    cache = str(locations.tokenized_cache_dir())
    return bool(ds.cache_files) and all(f["filename"].startswith(cache) for f in ds.cache_files)


def _entries() -> set[str]:
    root = locations.tokenized_cache_dir()
    return {p.name for p in root.iterdir()} if root.is_dir() else set()


def test_second_build_reads_the_cache(tiny_model: Path, tmp_path: Path) -> None:
    data = write_rows(tmp_path / "rows.jsonl", 20)
    spec = make_spec(tiny_model, data)
    first, stats1, fp1 = _build(spec)
    assert not _from_cache(first)
    entries = _entries()
    second, stats2, fp2 = _build(spec)
    assert _from_cache(second)
    assert _entries() == entries  # nothing new written
    assert fp1 == fp2 and stats1.as_dict() == stats2.as_dict()
    assert second["input_ids"] == first["input_ids"] and second["labels"] == first["labels"]


def test_changes_to_template_length_data_or_tokenizer_miss_the_cache(
    tiny_model: Path, tmp_path: Path
) -> None:
    from ftui.core.demo import build_tiny_model

    data = write_rows(tmp_path / "rows.jsonl", 20)
    base = make_spec(tiny_model, data)
    _build(base)
    other_tokenizer = build_tiny_model(tmp_path / "other", corpus=corpus(120)[60:])
    variants = {
        "template": base.model_copy(
            update={"template": base.template.model_copy(update={"name": "alpaca"})}
        ),
        "max_seq_len": base.model_copy(
            update={"data": base.data.model_copy(update={"max_seq_len": 64})}
        ),
        "tokenizer": base.model_copy(
            update={"model": base.model.model_copy(update={"name_or_path": str(other_tokenizer)})}
        ),
    }
    seen = {_build(base)[2]}
    for what, spec in variants.items():
        ds, _, fp = _build(spec)
        assert not _from_cache(ds), what
        assert fp not in seen, what
        seen.add(fp)
    # the data file rewritten with the same size within the same second still misses
    before = data.stat()
    text = data.read_text()
    data.write_text(text.replace("rivers", "cities", 1) if "rivers" in text else text[::-1])
    assert data.stat().st_size == before.st_size
    os.utime(data, ns=(before.st_atime_ns, before.st_mtime_ns + 1000))
    ds, _, fp = _build(base)
    assert not _from_cache(ds)
    assert fp not in seen
