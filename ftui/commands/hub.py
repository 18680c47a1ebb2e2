"""`ftui download MODEL`: fetch a hub model into the HF cache once, with its size up front and
a progress line; resumes a partial download when run again."""

from __future__ import annotations

import sys
import time

from ftui.commands._common import fail
from ftui.core.units import human_bytes


def register(subparsers) -> None:  # type: ignore[no-untyped-def]
    p = subparsers.add_parser(
        "download",
        help="fetch a hub model into the Hugging Face cache (resumable)",
        description="Download a hub model once into the Hugging Face cache, before launch, "
        "so ranks never download it at the same time. Gated models need `hf auth login`.",
    )
    p.add_argument("model", metavar="MODEL", help="hub id, e.g. Qwen/Qwen2.5-0.5B-Instruct")
    p.add_argument("--revision", help="branch, tag or commit to fetch")
    p.set_defaults(handler=_download)


class _ProgressLine:
    def __init__(self) -> None:
        self.start = time.monotonic()
        self.announced = False

    def __call__(self, done: int, total: int) -> None:
        if not self.announced:
            self.announced = True
            print(f"downloading {human_bytes(total)}", file=sys.stderr)
            return
        rate = done / max(1e-6, time.monotonic() - self.start)
        pct = 100.0 * done / total if total else 100.0
        print(
            f"\r{pct:5.1f}%  {human_bytes(done)} / {human_bytes(total)}  {human_bytes(rate)}/s   ",
            end="",
            file=sys.stderr,
            flush=True,
        )


def _download(args) -> int:  # type: ignore[no-untyped-def]
    from ftui.core.model.hub import ModelError, download_model

    line = _ProgressLine()
    try:
        path = download_model(args.model, args.revision, progress=line)
    except ModelError as exc:
        return fail(str(exc), code=1)
    if line.announced:
        print(file=sys.stderr)
    print(path)
    return 0
