"""`ftui preview SPEC`: the mask lens in the terminal, or as JSON for scripts.

Reads only the first rows of the dataset (streamed from the hub, or from the start of a local
file), renders them through the template and the model's tokenizer, and prints each token
trained (green) or masked (grey), with EOS marked, plus the length statistics.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from ftui.commands._common import add_spec_args, fail, load_spec_arg

GREEN, GREY, BOLD, RESET = "\x1b[32m", "\x1b[90m", "\x1b[1m", "\x1b[0m"
YELLOW = "\x1b[33m"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("preview", help="rendered rows with trained vs masked tokens, length stats")
    add_spec_args(p)
    p.add_argument(
        "--rows",
        type=int,
        default=3,
        metavar="N",
        help="rows to show, from the first (default 3; rows count from 1, as in the "
        "wizard's lens and in preflight messages)",
    )
    p.add_argument(
        "--sample",
        type=int,
        default=1000,
        metavar="N",
        help="rows read for the statistics (default 1000; the dataset is never loaded whole)",
    )
    p.add_argument("--tokens", action="store_true", help="show token boundaries")
    p.add_argument("--json", action="store_true", help="format, mapping, reasons, stats as JSON")
    p.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    p.set_defaults(handler=cmd_preview)


def compute(spec: Any, rows: int, sample: int) -> tuple[dict[str, Any], Any] | list[str]:
    """(summary dict, lens) or the error lines."""
    from ftui.core.data.lens_report import lens_report, summary_dict

    report = lens_report(spec, rows=rows, sample=sample)
    if not report.ok:
        return report.errors
    return summary_dict(spec, report), report.lens


def cmd_preview(args: argparse.Namespace) -> int:
    from ftui.core.spec import SpecError

    try:
        spec = load_spec_arg(args)
    except SpecError as exc:
        return fail(exc.problems)
    result = compute(spec, max(0, args.rows), max(1, args.sample))
    if isinstance(result, list):
        return fail(result)
    summary, lens = result
    refused = nothing_trains(lens)
    if args.json:
        print(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        use = args.color == "always" or (
            args.color == "auto" and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        )
        print(render_text(summary, lens, color=use, boundaries=args.tokens))
    if refused:
        return fail([refused])
    return 0


def nothing_trains(lens: Any) -> str | None:
    """Why no row read would train (every one fails to render, or trains no token): the
    preview still shows them, and exits non-zero like the run would refuse them."""
    st = lens.stats
    if not st.rows or st.kept:
        return None
    if st.errors == st.rows:
        first = next((r for r in lens.rows if r.error), None)
        why = f" (row {first.index + 1}: {first.error})" if first else ""
        return (
            f"template.name: none of the {st.rows} rows read can be rendered{why}; "
            "choose another template.name or fix the rows' roles"
        )
    return (
        f"data.columns: none of the {st.rows} rows read has a token to train; check "
        "data.columns, template.train_on_input and data.max_seq_len"
    )


def _c(text: str, code: str, color: bool) -> str:
    return f"{code}{text}{RESET}" if color and text else text


def render_row(row: Any, color: bool, boundaries: bool) -> str:
    """One row's tokens: trained green, masked grey; EOS as ⟨eos⟩; `|` between tokens on
    request (without colour, masked text is wrapped in ⟦ ⟧ so the span is still visible)."""
    if row.error:
        return f"  cannot render: {row.error}"
    out: list[str] = []
    prev: bool | None = None
    for tok in row.tokens:
        text = "⟨eos⟩" if tok.eos else tok.text
        if tok.joined and prev is not None:  # the rest of a character split over tokens
            out.append(_c(text, GREEN if tok.trained else GREY, color))
            continue
        if not color and prev is False and tok.trained:
            out.append("⟧")
        if boundaries and prev is not None:
            out.append(_c("|", YELLOW, color))
        if not color and not tok.trained and prev is not False:
            out.append("⟦")
        code = GREEN if tok.trained else GREY
        out.append(_c(text, code + (BOLD if tok.special else ""), color))
        prev = tok.trained
    if not color and prev is False:
        out.append("⟧")
    if row.truncated:
        out.append(_c(f"  ✂ cut at {row.cut} of {row.length} tokens", YELLOW, color))
    return "".join(out)


def render_text(summary: dict[str, Any], lens: Any, color: bool, boundaries: bool) -> str:
    st = summary["stats"]
    total = summary["total_rows"]
    lines = [
        _c(f"{summary['source']} [{summary['split']}]", BOLD, color)
        + f"  {total if total is not None else '?'} rows; statistics over the first "
        f"{summary['read_rows']}",
        f"format: {summary['format']}"
        + (f" ({summary['style']})" if summary["style"] else "")
        + "   columns: "
        + ", ".join(f"{r} <- {c}" for r, c in summary["columns"].items()),
    ]
    lines += [f"  {reason}" for reason in summary["reasons"]]
    sug = summary["suggested_template"]
    lines.append(
        f"template: {summary['template']}   (this model suggests {sug['name']}: {sug['reason']})"
    )
    lines += [_c(f"warning: {w}", YELLOW, color) for w in summary["warnings"]]
    lines.append(
        f"trained tokens: {st['trained_tokens']} of {st['tokens']} ({st['trained_share']:.0%})   "
        f"rows with nothing to train: {st['no_trained']}   truncated at {st['max_seq_len']}: "
        f"{st['truncated']}   99% of rows fit in {st['suggested_max_seq_len']} tokens"
    )
    lines += histogram_lines(st["histogram"], st["max_seq_len"], color)
    legend = f"{_c('trained', GREEN, color)} / {_c('masked', GREY, color)}"
    for row in lens.rows:
        lines.append("")
        lines.append(
            _c(f"row {row.index + 1}", BOLD, color)
            + f"  {row.length} tokens, {row.trained} trained   ({legend})"
        )
        lines.append(render_row(row, color, boundaries))
    return "\n".join(lines)


def histogram_lines(bins: list[list[int]], cut: int, color: bool, width: int = 40) -> list[str]:
    """Token lengths as horizontal bars; the bin holding max_seq_len is marked."""
    used = [b for b in bins if b[2]] or bins[:1]
    last = max(i for i, b in enumerate(bins) if b in used)
    top = max(b[2] for b in bins) or 1
    out = ["token lengths:"]
    for lo, hi, count in bins[: last + 1]:
        bar = "█" * max(1 if count else 0, round(width * count / top))
        mark = _c(f"  ◀ max_seq_len {cut}", YELLOW, color) if lo <= cut < hi else ""
        out.append(f"  {lo:>6}-{hi - 1:<6} {bar} {count}{mark}")
    if cut >= bins[last][1]:
        out.append(_c(f"  (max_seq_len {cut} is above the longest row)", YELLOW, color))
    return out
