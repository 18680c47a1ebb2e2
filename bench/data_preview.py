"""The Data step reads the first rows of a big file without loading it whole.

    python bench/data_preview.py [--rows 1000000]

Writes a JSONL and a Parquet file of `--rows` prompt/response rows into a temp dir, then
times `preview_rows(n=20)` (what the wizard and `ftui preview` call) against a full
`load_split` (what training does), and the mask lens over 1000 rows with the demo tokenizer.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def timed(label: str, fn):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    out = fn()
    print(f"{label:<46} {time.perf_counter() - start:8.3f} s")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    tmp = Path(tempfile.mkdtemp(prefix="ftui-bench-data-"))
    os.environ.setdefault("HF_DATASETS_CACHE", str(tmp / "hf"))

    import pyarrow as pa
    import pyarrow.parquet as pq

    from ftui.core.data.dataset import load_split, resolve_mapping
    from ftui.core.data.mask_lens import build_lens
    from ftui.core.data.preview import preview_rows
    from ftui.core.demo import ensure_demo_model
    from ftui.core.model.tokenizer import load_tokenizer
    from ftui.core.spec import DataSection, spec_from_dict
    from ftui.core.units import human_bytes

    rows = [
        {"question": f"What is {i} plus {i}?", "answer": f"{i} plus {i} is {2 * i}."}
        for i in range(args.rows)
    ]
    jsonl = tmp / "big.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in rows))
    parquet = tmp / "big.parquet"
    pq.write_table(pa.Table.from_pylist(rows), parquet)
    print(
        f"{args.rows:,} rows: jsonl {human_bytes(jsonl.stat().st_size)}, "
        f"parquet {human_bytes(parquet.stat().st_size)}"
    )
    for path in (jsonl, parquet):
        data = DataSection(source=str(path))
        pv = timed(f"preview_rows(n=20) {path.suffix}", lambda d=data: preview_rows(d, n=20))
        assert len(pv.rows) == 20 and pv.total_rows == args.rows
        timed(f"load_split (full load) {path.suffix}", lambda d=data: load_split(d))

    tok = load_tokenizer(ensure_demo_model())
    spec = spec_from_dict({"data": {"source": str(jsonl)}, "template": {"name": "chatml"}})
    pv = preview_rows(spec.data, n=1000)
    det = resolve_mapping(spec.data, pv.columns, pv.rows)
    lens = timed(
        "mask lens over 1000 rows (20 with token text)",
        lambda: build_lens(pv.rows, det, spec, tok, show=20),
    )
    print(
        f"trained share {lens.stats.trained_share:.0%}, 99% fit in "
        f"{lens.stats.suggested_max_len()} tokens"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
