"""The GPU suite's result.json as the README's GPU tables (bench/gpu/report.py).

    python bench/gpu/to_readme.py OUT/result.json                    # print the tables
    python bench/gpu/to_readme.py OUT/result.json --write README.md  # replace the section

--write replaces what lies between the README's two markers (START and END below) and
nothing else. A dry run's JSON holds CPU figures of toy shapes, never GPU figures: it is
refused unless --allow-dry-run (the test does that, on a copy).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from report import tables  # noqa: E402

START = "<!-- gpu-results:start (bench/gpu/to_readme.py writes this part) -->"
END = "<!-- gpu-results:end -->"


def replace_section(text: str, body: str) -> str:
    """`text` with what lies between START and END replaced by `body`."""
    if text.count(START) != 1 or text.count(END) != 1 or text.index(START) > text.index(END):
        raise ValueError(f"the README needs exactly one {START!r} followed by one {END!r}")
    head, rest = text.split(START)
    _, tail = rest.split(END)
    return f"{head}{START}\n{body.rstrip()}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("result", type=Path, help="the suite's result.json")
    p.add_argument("--write", type=Path, help="the README to update in place")
    p.add_argument("--allow-dry-run", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    result = json.loads(args.result.read_text())
    if result.get("dry_run") and args.write and not args.allow_dry_run:
        print(
            f"{args.result}: a dry run's figures (CPU, toy shapes) are not GPU results; "
            "run the suite on a GPU (bench/gpu/README.md)",
            file=sys.stderr,
        )
        return 2
    body = tables(result)
    if not args.write:
        print(body, end="")
        return 0
    try:
        args.write.write_text(replace_section(args.write.read_text(), body))
    except ValueError as exc:
        print(f"{args.write}: {exc}", file=sys.stderr)
        return 2
    print(f"{args.write}: GPU results updated from {args.result}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
