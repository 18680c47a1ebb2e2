"""Everything the Template step and `ftui preview` show, from one call: the first rows of the
dataset rendered through the template and the tokenizer (the mask lens), the mapping with its
reasons, the template this model suggests and what is wrong with the chosen one.

Tokenizers and previews of the same source are cached for the session, so stepping through
templates in the wizard re-tokenises a few rows and does not reload anything.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ftui.core.spec import RunSpec

_TOKENIZERS: dict[tuple[str, str | None], Any] = {}
_PREVIEWS: dict[str, Any] = {}


@dataclass
class LensReport:
    lens: Any = None  # mask_lens.Lens
    detection: Any = None  # formats.Detection
    source: str = ""
    total_rows: int | None = None
    suggested: tuple[str, str] = ("", "")  # (template name, reason)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def cached_tokenizer(spec: RunSpec) -> tuple[Any, list[str]]:
    """(tokenizer or None, error lines); cached per model and revision."""
    key = (spec.model.name_or_path, spec.model.revision)
    if key in _TOKENIZERS:
        return _TOKENIZERS[key], []
    from ftui.core.check.preflight import PreflightReport, check_model

    report = PreflightReport()
    tok = check_model(spec, report)
    if tok is None:
        return None, [m for _, m in report.errors]
    if len(_TOKENIZERS) > 4:
        _TOKENIZERS.clear()
    _TOKENIZERS[key] = tok
    return tok, []


def _preview(spec: RunSpec, n: int) -> Any:
    from ftui.core.data.preview import preview_rows

    key = json.dumps([spec.data.source, spec.data.subset, spec.data.split, n])
    from ftui.core.data.dataset import is_local_source

    if key not in _PREVIEWS or is_local_source(spec.data.source):
        if len(_PREVIEWS) > 8:
            _PREVIEWS.clear()
        _PREVIEWS[key] = preview_rows(spec.data, n=n)
    return _PREVIEWS[key]


def lens_report(spec: RunSpec, rows: int = 20, sample: int = 500) -> LensReport:
    """The mask lens over the first `sample` rows (tokens kept for the first `rows`)."""
    from ftui.core.data.dataset import DataError, resolve_mapping, row_to_conversation
    from ftui.core.data.mask_lens import build_lens
    from ftui.core.prompt.check import (
        COMPARED_ROWS,
        default_template,
        own_template_difference,
        template_warnings,
    )
    from ftui.core.prompt.conversation import TemplateError

    out = LensReport(source=spec.data.source)
    tokenizer, errors = cached_tokenizer(spec)
    if tokenizer is None:
        out.errors = errors
        return out
    out.suggested = default_template(tokenizer)
    out.warnings = template_warnings(spec.template.name, tokenizer)
    try:
        pv = _preview(spec, max(rows, sample))
        out.source, out.total_rows = pv.source, pv.total_rows
        if not pv.rows:
            raise DataError(f"data.split: {spec.data.split!r} of {pv.source} has no rows (0 rows)")
        out.detection = resolve_mapping(spec.data, pv.columns, pv.rows[:50])
        out.lens = build_lens(pv.rows, out.detection, spec, tokenizer, show=rows)
    except (DataError, TemplateError) as exc:  # TemplateTooCostly stops the lens
        out.errors = [str(exc)]
        return out
    first = [row_to_conversation(r, out.detection) for r in pv.rows[:COMPARED_ROWS]]
    if (diff := own_template_difference(spec.template, first, tokenizer)) is not None:
        out.warnings.append(diff)
    return out


def summary_dict(spec: RunSpec, report: LensReport) -> dict[str, Any]:
    """The report as JSON-ready data (what `ftui preview --json` prints)."""
    det, lens = report.detection, report.lens
    name, why = report.suggested
    return {
        "source": report.source,
        "split": spec.data.split,
        "total_rows": report.total_rows,
        "read_rows": lens.stats.rows if lens else 0,
        "format": det.format if det else None,
        "style": det.style if det else "",
        "columns": det.columns if det else {},
        "reasons": det.reasons if det else [],
        "ignored": det.ignored if det else [],
        "template": spec.template.name,
        "suggested_template": {"name": name, "reason": why},
        "warnings": report.warnings,
        "errors": report.errors,
        "stats": lens.stats.as_dict() if lens else {},
        "rows": [
            {
                "index": r.index,
                "length": r.length,
                "truncated": r.truncated,
                "trained": r.trained,
                "error": r.error,
                # one [text, trained] per token, aligned with input_ids and labels; a token
                # sharing a character with the one before (an emoji's last bytes) carries only
                # what is not shown yet, often "": the texts joined spell the rendered row
                "tokens": [[t.text, t.trained] for t in r.tokens],
                "input_ids": [t.id for t in r.tokens],
                "labels": [t.id if t.trained else -100 for t in r.tokens],
            }
            for r in (lens.rows if lens else [])
        ],
    }
