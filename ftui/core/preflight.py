"""Preflight: everything that can be checked before a launch, without training.

Schema and contradictions (RunSpec), the model path, the tokenizer, the data (rows, mapping,
rendered and tokenised rows with their masks), disk space. Used by `ftui run`, `ftui validate`
and the wizard's Launch. Errors refuse the launch; warnings are shown.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ftui.core.spec import RunSpec

NO_TRAIN_SHARE_LIMIT = 0.10  # refuse when more rows than this have nothing to train
TRUNCATION_WARN_SHARE = 0.05
SAMPLE_ROWS = 2000


@dataclass
class PreflightReport:
    errors: list[tuple[str, str]] = field(default_factory=list)  # (field, message)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    detection: Any = None

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, fld: str, msg: str) -> None:
        self.errors.append((fld, msg))

    def warn(self, fld: str, msg: str) -> None:
        self.warnings.append((fld, msg))

    def lines(self) -> list[str]:
        return [f"error: {m}" for _, m in self.errors] + [f"warning: {m}" for _, m in self.warnings]


def _field_of(message: str, default: str) -> str:
    head = message.split(":", 1)[0]
    return head if "." in head and " " not in head else default


def check_model(spec: RunSpec, report: PreflightReport) -> Any:
    """Load the tokenizer (cheap) to prove the model reference resolves. Returns it or None."""
    from ftui.core.demo import resolve_model_ref

    ref_name = spec.model.name_or_path
    try:
        ref = resolve_model_ref(ref_name)
    except ValueError as exc:
        report.error("model.name_or_path", str(exc))
        return None
    looks_local = ref.startswith(("/", "./", "../", "~")) or os.sep in ref and Path(ref).exists()
    if looks_local and not Path(ref).expanduser().exists():
        report.error("model.name_or_path", f"model.name_or_path: {ref} does not exist")
        return None
    if ref.count("/") > 1 and not Path(ref).exists():
        report.error(
            "model.name_or_path",
            f"model.name_or_path: {ref} does not exist (not a directory, and not a hub id "
            "of the form owner/name)",
        )
        return None
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(
            ref, revision=spec.model.revision, trust_remote_code=spec.model.trust_remote_code
        )
    except Exception as exc:  # offline, gated, missing files: one readable line
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        hint = ""
        low = text.lower()
        if "gated" in low or "401" in low:
            hint = " (a gated model: accept its licence on the hub, then `hf auth login`)"
        elif os.environ.get("HF_HUB_OFFLINE") == "1" or "offline" in low or "connect" in low:
            hint = " (offline: only local paths and models already in the HF cache work; `ftui download MODEL` when online)"
        report.error(
            "model.name_or_path", f"model.name_or_path: cannot load {ref!r}: {text[:300]}{hint}"
        )
        return None


def check_data(
    spec: RunSpec, tokenizer: Any, report: PreflightReport, limit: int = SAMPLE_ROWS
) -> None:
    from ftui.core import data
    from ftui.core.templates import TemplateError

    try:
        train, ev = data.load_train_eval(spec)
    except data.DataError as exc:
        report.error(_field_of(str(exc), "data.source"), str(exc))
        return
    if len(train) == 0:
        report.error("data.split", f"data.split: {spec.data.split!r} has no rows")
        return
    sample = [train[i] for i in range(min(50, len(train)))]
    try:
        det = data.resolve_mapping(spec.data, train.column_names, sample)
    except data.DataError as exc:
        report.error(_field_of(str(exc), "data.columns"), str(exc))
        return
    report.detection = det
    stats = data.TokenStats()
    empty_prompt = empty_response = 0
    n = min(limit, len(train))
    try:
        for i in range(n):
            row = train[i]
            conv = data.row_to_conversation(row, det)
            if conv.text is None:
                turns = conv.turns
                empty_prompt += int(not any(m.content.strip() for m in turns if m.role == "user"))
                empty_response += int(
                    not any(m.content.strip() for m in turns if m.role == "assistant")
                )
            ids, labels, truncated = data.tokenize_row(row, det, spec, tokenizer)
            trained = sum(1 for x in labels if x != -100)
            stats.rows += 1
            stats.truncated += int(truncated)
            stats.lengths.append(len(ids))
            stats.tokens += len(ids)
            stats.trained_tokens += trained
            if trained == 0:
                stats.no_trained += 1
            else:
                stats.kept += 1
    except TemplateError as exc:
        report.error(_field_of(str(exc), "template.name"), str(exc))
        return
    report.stats = {
        **stats.as_dict(),
        "total_rows": len(train),
        "eval_rows": len(ev) if ev is not None else 0,
        "format": det.format,
        "columns": det.columns,
    }
    share = stats.no_trained / max(1, stats.rows)
    if share > NO_TRAIN_SHARE_LIMIT:
        report.error(
            "template.train_on_input",
            f"data: {stats.no_trained} of {stats.rows} rows ({share:.0%}) have no token to train "
            f"(limit {NO_TRAIN_SHARE_LIMIT:.0%}): the response is empty or cut off by "
            f"data.max_seq_len={spec.data.max_seq_len}; check data.columns or raise data.max_seq_len",
        )
    elif stats.no_trained:
        report.warn(
            "data.columns",
            f"data: {stats.no_trained} rows have nothing to train and will be skipped",
        )
    if stats.truncated / max(1, stats.rows) > TRUNCATION_WARN_SHARE:
        report.warn(
            "data.max_seq_len",
            f"data.max_seq_len: {stats.truncated} of {stats.rows} rows are longer than "
            f"{spec.data.max_seq_len} tokens and will be truncated",
        )
    if empty_prompt:
        report.warn("data.columns", f"data: {empty_prompt} rows have an empty prompt")
    if empty_response:
        report.warn("data.columns", f"data: {empty_response} rows have an empty response")


def check_disk(spec: RunSpec, report: PreflightReport) -> None:
    root = Path(spec.output.root)
    probe = root if root.exists() else Path(os.path.abspath(root)).parent
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        free = shutil.disk_usage(probe).free
    except OSError:
        return
    needed = _disk_needed(spec)
    report.stats["disk_free"] = free
    report.stats["disk_needed"] = needed
    if needed and needed > free:
        report.error(
            "output.root",
            f"output.root: checkpoints and final output need about {needed / 2**30:.1f} GiB, "
            f"but {probe} has {free / 2**30:.1f} GiB free; free space, lower "
            "train.save_total_limit, or point output.root at a larger disk",
        )


def _disk_needed(spec: RunSpec) -> int:
    try:
        from ftui.core.memory import estimate_disk
        from ftui.core.models import inspect_model
    except ImportError:
        return 0
    try:
        facts = inspect_model(
            spec.model.name_or_path, spec.model.revision, spec.model.trust_remote_code
        )
    except Exception:
        return 0
    return int(estimate_disk(spec, facts))


def check_strategy(spec: RunSpec, report: PreflightReport) -> None:
    if spec.launch.strategy == "ddp":
        return
    from ftui.core.hardware import detect_hardware
    from ftui.core.sharding import strategy_problem

    problem = strategy_problem(spec, detect_hardware().backend)
    if problem:
        report.error("launch.strategy", problem)


def preflight(spec: RunSpec, data_rows: int = SAMPLE_ROWS) -> PreflightReport:
    report = PreflightReport()
    check_strategy(spec, report)
    tokenizer = check_model(spec, report)
    if tokenizer is not None:
        if tokenizer.pad_token_id is None and tokenizer.eos_token is not None:
            tokenizer.pad_token = tokenizer.eos_token
        check_data(spec, tokenizer, report, data_rows)
    check_disk(spec, report)
    return report
