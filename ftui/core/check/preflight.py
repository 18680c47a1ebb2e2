"""Preflight: everything that can be checked before a launch, without training.

Schema and contradictions (RunSpec), the model path, the tokenizer, the data (rows, mapping,
rendered and tokenised rows with their masks), the LoRA target modules, output.root (a folder
the user may write, never a system directory), disk space. Used by
`ftui run`, `ftui validate` and the wizard's Launch. Errors refuse the launch; warnings are
shown.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ftui.core.spec import RunSpec
from ftui.core.units import human_bytes

NO_TRAIN_SHARE_LIMIT = 0.10  # refuse when more rows than this have nothing to train
TRUNCATION_WARN_SHARE = 0.05
SAMPLE_ROWS = 2000
# output.root may never be one of these, nor (for the first group) anything inside them.
SYSTEM_TREES = ("/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/proc", "/sbin",
                "/sys", "/usr")  # fmt: skip
SYSTEM_DIRS = ("/", "/home", "/mnt", "/media", "/opt", "/run", "/srv", "/var")


@dataclass
class PreflightReport:
    errors: list[tuple[str, str]] = field(default_factory=list)  # (field, message)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the run will do, said once
    # The eval split's line: the worker's plan says it again once the run starts, so a command
    # that follows the run leaves it out here (`lines(followed=True)`).
    eval_note: str | None = None
    stats: dict[str, Any] = field(default_factory=dict)
    detection: Any = None

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, fld: str, msg: str) -> None:
        self.errors.append((fld, msg))

    def warn(self, fld: str, msg: str) -> None:
        self.warnings.append((fld, msg))

    def lines(self, followed: bool = False) -> list[str]:
        """What to print; `followed`: the run's own lines follow (they repeat the eval note)."""
        notes = self.notes + ([self.eval_note] if self.eval_note and not followed else [])
        return (
            [f"error: {m}" for _, m in self.errors]
            + [f"warning: {m}" for _, m in self.warnings]
            + [f"note: {m}" for m in notes]
        )


def _field_of(message: str, default: str) -> str:
    head = message.split(":", 1)[0]
    return head if "." in head and " " not in head else default


def check_model(spec: RunSpec, report: PreflightReport) -> Any:
    """Load the tokenizer (cheap) to prove the model reference resolves. Returns it or None
    (and the reason in `report`)."""
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
    from ftui.core.safe_load import pickled_only, unsafe_message

    if pickled_only(ref):
        report.error("model.name_or_path", unsafe_message(ref))
        return None
    from ftui.core.model.tokenizer import load_tokenizer

    try:
        return load_tokenizer(ref, spec.model.revision, spec.model.trust_remote_code)
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


def _example(kind: str, stats: Any, rows: list[dict[str, Any]], det: Any) -> str:
    """' (e.g. row 7: "What is ...")' for the first row of a kind; rows count from 1, as
    everywhere a person reads a row number."""
    from ftui.core.data.dataset import row_to_conversation

    index = stats.examples.get(kind)
    if index is None:
        return ""
    conv = row_to_conversation(rows[index], det)
    text = conv.text if conv.text is not None else " / ".join(m.content for m in conv.turns)
    text = " ".join(text.split())
    text = text[:60] + ("..." if len(text) > 60 else "")
    return f' (e.g. row {index + 1}: "{text}")'


def check_data(
    spec: RunSpec,
    tokenizer: Any,
    report: PreflightReport,
    limit: int = SAMPLE_ROWS,
    context: int | None = None,
) -> None:
    """Rows exist, the mapping holds, and the first `limit` rows train something; `context`
    (the model's context length) caps the max_seq_len suggested."""
    from ftui.core.data import dataset as data
    from ftui.core.data.eval_split import describe
    from ftui.core.data.mask_lens import build_lens
    from ftui.core.prompt.check import COMPARED_ROWS, own_template_difference, template_warnings

    try:
        train, ev = data.load_train_eval(spec)
    except data.DataError as exc:
        report.error(_field_of(str(exc), "data.source"), str(exc))
        return
    if len(train) == 0:
        report.error("data.split", f"data.split: {spec.data.split!r} has no rows (0 rows)")
        return
    n = min(limit, len(train))
    rows = [train[i] for i in range(n)]
    try:
        det = data.resolve_mapping(spec.data, train.column_names, rows[:50])
    except data.DataError as exc:
        report.error(_field_of(str(exc), "data.columns"), str(exc))
        return
    report.detection = det
    eval_rows = len(ev) if ev is not None else 0
    report.eval_note = describe(spec.data.eval_split, len(train), eval_rows, spec.train.seed)
    if spec.train.eval_steps and not eval_rows:
        report.warn("train.eval_steps", "train.eval_steps: set, but there are no eval rows")
    for line in template_warnings(spec.template.name, tokenizer):
        report.warn("template.name", line)
    first = [data.row_to_conversation(r, det) for r in rows[:COMPARED_ROWS]]
    if (diff := own_template_difference(spec.template, first, tokenizer)) is not None:
        report.warn("template.name", diff)
    try:
        lens = build_lens(rows, det, spec, tokenizer, show=0)
    except (data.DataError, data.TemplateError) as exc:  # a row over the limit, a costly template
        report.error(_field_of(str(exc), "data.source"), str(exc))
        return
    st = lens.stats
    report.stats = {
        **st.as_dict(),
        "total_rows": len(train),
        "eval_rows": eval_rows,
        "format": det.format,
        "columns": det.columns,
        "reasons": det.reasons,
    }
    of = f"of the first {st.rows} rows" if st.rows < len(train) else f"of {st.rows} rows"
    if st.errors:
        report.error(
            "template.name",
            f"{st.errors} {of} cannot be rendered: " + _row_error(lens, rows, det, spec, tokenizer),
        )
        return
    if st.no_trained_share > NO_TRAIN_SHARE_LIMIT:
        report.error(
            "template.train_on_input",
            f"template.train_on_input: {st.no_trained} {of} ({st.no_trained_share:.0%}) have "
            "no token to train "
            f"(limit {NO_TRAIN_SHARE_LIMIT:.0%}): the response is empty or cut off by "
            f"data.max_seq_len={spec.data.max_seq_len}; check data.columns or raise "
            f"data.max_seq_len{_example('no_trained', st, rows, det)}",
        )
    elif st.no_trained:
        report.warn(
            "data.columns",
            f"data.columns: {st.no_trained} {of} have nothing to train and will be skipped"
            + _example("no_trained", st, rows, det),
        )
    report.stats["suggested_max_seq_len"] = st.suggested_max_len(context=context)
    if st.truncated / st.rows > TRUNCATION_WARN_SHARE:
        whole, capped = st.suggested_max_len(), st.suggested_max_len(context=context)
        fix = (
            f"{whole} keeps 99% whole"
            if whole == capped
            else f"{whole} would keep 99% whole but is above the model's context length "
            f"{capped}; {capped} keeps the most"
        )
        report.warn(
            "data.max_seq_len",
            f"data.max_seq_len: {st.truncated} {of} ({st.truncated / st.rows:.0%}) are longer "
            f"than {spec.data.max_seq_len} tokens and will be truncated; "
            f"{fix}{_example('truncated', st, rows, det)}",
        )
    if st.empty_prompt:
        report.warn(
            "data.columns",
            f"data.columns: {st.empty_prompt} {of} have an empty prompt"
            + _example("empty_prompt", st, rows, det),
        )
    _check_empty_responses(spec, report, st, of, rows, det)


def _check_empty_responses(
    spec: RunSpec, report: PreflightReport, st: Any, of: str, rows: list[dict[str, Any]], det: Any
) -> None:
    """A row with an empty response still trains its end-of-turn token, so no row counts as
    having nothing to train; but when every response is empty the run learns only to stop:
    refused like a missing column (unless the prompt is trained: train_on_input). Some empty
    responses are a warning with the count; a share above the no-train limit also says why."""
    if not st.empty_response:
        return
    example = _example("empty_response", st, rows, det)
    column = det.columns.get("response") or det.columns.get("messages")
    if st.empty_response == st.rows and column and not spec.template.train_on_input:
        role = "response" if "response" in det.columns else "messages"
        report.error(
            "data.columns",
            f"data.columns: every one {of} has an empty response in column "
            f"{column!r}: only the end-of-turn token would be trained; map "
            f"data.columns.{role} to the column that holds the answers, or set "
            f"template.train_on_input=true to train on prompt-only text{example}",
        )
        return
    share = st.empty_response / st.rows
    why = (
        f" ({share:.0%}): they train only the end-of-turn token"
        if share > NO_TRAIN_SHARE_LIMIT
        else ""
    )
    report.warn(
        "data.columns",
        f"data.columns: {st.empty_response} {of} have an empty response{why}{example}",
    )


def _row_error(
    lens: Any, rows: list[dict[str, Any]], det: Any, spec: RunSpec, tokenizer: Any
) -> str:
    from ftui.core.data.mask_lens import lens_row

    index = lens.stats.examples["error"]
    return str(lens_row(rows[index], index, det, spec, tokenizer, tokens=False).error)


def check_context(spec: RunSpec, report: PreflightReport, context: int | None) -> None:
    """A max_seq_len above the model's context length (max_position_embeddings) is a warning,
    not a refusal: transformers does not refuse it (the rotary position embeddings of the
    Llama, Qwen, Mistral and Phi families extend to any length), but positions past the
    context were never trained, so rows that long train and answer poorly."""
    if not context or spec.data.max_seq_len <= context:
        return
    longest = report.stats.get("longest")
    rows = f"; the longest row checked has {longest} tokens" if longest else ""
    report.warn(
        "data.max_seq_len",
        f"data.max_seq_len: {spec.data.max_seq_len} is above the model's context length "
        f"{context} (max_position_embeddings): positions past {context} were never trained"
        f"{rows}; set data.max_seq_len={context} or less",
    )


def model_facts(spec: RunSpec) -> Any:
    """The model's facts (a meta-device build), or None when it cannot be read (check_model
    reports why)."""
    from ftui.core.model.facts import inspect_model

    try:
        return inspect_model(
            spec.model.name_or_path, spec.model.revision, spec.model.trust_remote_code
        )
    except Exception:
        return None


def check_lora_targets(spec: RunSpec, report: PreflightReport, facts: Any) -> None:
    """Every module named in method.lora.target_modules exists in the model and is one LoRA
    can adapt; otherwise peft stops the run only after the model has loaded on every rank."""
    from ftui.core.model.facts import target_problem

    if spec.method.kind == "full" or facts is None:
        return
    problem = target_problem(facts, spec.method.lora.target_modules)
    if problem:
        report.error("method.lora.target_modules", problem)


def output_root_problem(root: Path) -> str | None:
    """Why runs cannot be written under root, or None: it must be (or be creatable as) a
    directory this user may write, and never a system directory."""
    real = Path(os.path.realpath(os.path.abspath(root.expanduser())))
    shown = f"{root}" + (f" (-> {real})" if str(real) != os.path.abspath(root) else "")
    if str(real) in SYSTEM_DIRS or any(real.is_relative_to(tree) for tree in SYSTEM_TREES):
        return (
            f"output.root: {shown} is a system directory; runs go in a folder of their own "
            "(runs/ by default): set output.root=runs or a path under your home"
        )
    probe = real
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        what = "is a file" if probe == real else f"cannot be created: {probe} is a file"
        return f"output.root: {shown} {what}, not a directory; point output.root at a folder"
    if not os.access(probe, os.W_OK | os.X_OK):
        where = "" if probe == real else f" (nor {probe}, where it would be created)"
        return (
            f"output.root: {shown} is not writable by you{where}; "
            "point output.root at a folder you own"
        )
    return None


def check_output_root(spec: RunSpec, report: PreflightReport) -> None:
    problem = output_root_problem(Path(spec.output.root))
    if problem:
        report.error("output.root", problem)


def check_serving(spec: RunSpec, report: PreflightReport) -> None:
    """Warn before training when vLLM could not serve the adapter as a LoRA."""
    from ftui.core.playground.vllm import vllm_lora_problems, vllm_lora_warning

    warning = vllm_lora_warning(spec)
    if warning:  # each problem starts with the field it is about
        report.warn(vllm_lora_problems(spec)[0].split()[0].rstrip(":"), warning)


def check_disk(spec: RunSpec, report: PreflightReport, facts: Any = None) -> None:
    root = Path(spec.output.root)
    probe = root if root.exists() else Path(os.path.abspath(root)).parent
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        free = shutil.disk_usage(probe).free
    except OSError:
        return
    needed = _disk_needed(spec, facts)
    report.stats["disk_free"] = free
    report.stats["disk_needed"] = needed
    if needed and needed > free:
        report.error(
            "output.root",
            f"output.root: checkpoints and final output need about {human_bytes(needed)}, "
            f"but {probe} has {human_bytes(free)} free; free space, lower "
            "train.save_total_limit, or point output.root at a larger disk",
        )


def _disk_needed(spec: RunSpec, facts: Any = None) -> int:
    from ftui.core.check.memory import estimate_disk

    facts = facts if facts is not None else model_facts(spec)
    return int(estimate_disk(spec, facts)) if facts is not None else 0


def check_token_file(report: PreflightReport) -> None:
    """Warn when huggingface_hub's token file can be read by other users of this machine."""
    try:
        from huggingface_hub import constants
    except ImportError:
        return
    path = Path(constants.HF_TOKEN_PATH)
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if mode & 0o077:
        report.warn(
            "model.name_or_path",
            f"hub token: {path} is readable by other users (mode {oct(mode & 0o777)}); "
            f"run `chmod 600 {path}`",
        )


def check_launch(spec: RunSpec, report: PreflightReport) -> None:
    """The strategy on this hardware and, for a multi-node run, this node's rendezvous."""
    if spec.launch.strategy == "ddp" and spec.launch.nnodes == 1:
        return
    from ftui.core.hardware import detect_hardware
    from ftui.core.launch.cluster import launch_problems

    for line, fatal in launch_problems(spec, detect_hardware().backend):
        field = line.split(":", 1)[0]
        (report.error if fatal else report.warn)(field, line)


# train.report_to: the module each tracker needs (transformers also takes tensorboardX) and
# the ftui extra that installs it.
TRACKER_MODULES = {
    "tensorboard": ("tensorboard", "tensorboardX"),
    "trackio": ("trackio",),
    "wandb": ("wandb",),
    "mlflow": ("mlflow",),
}


def check_trackers(spec: RunSpec, report: PreflightReport) -> None:
    """Every tracker in train.report_to is installed (else the extra that installs it), and one
    that would upload the run says so, with the setting that keeps it local."""
    import importlib.util

    from ftui.core.trackers import upload_lines

    for line in upload_lines(spec.train.report_to, os.environ):
        report.warn("train.report_to", line)

    for tracker in spec.train.report_to:
        if not any(importlib.util.find_spec(m) for m in TRACKER_MODULES[tracker]):
            report.error(
                "train.report_to",
                f"train.report_to: {tracker} is not installed: pip install 'ftui[{tracker}]' "
                f"(or drop {tracker} from train.report_to)",
            )


def preflight(spec: RunSpec, data_rows: int = SAMPLE_ROWS) -> PreflightReport:
    report = PreflightReport()
    check_token_file(report)
    check_output_root(spec, report)
    check_trackers(spec, report)
    check_launch(spec, report)
    tokenizer = check_model(spec, report)
    facts = model_facts(spec)
    context = getattr(facts, "context_length", None)
    if tokenizer is not None:
        check_data(spec, tokenizer, report, data_rows, context)
    check_context(spec, report, context)
    check_lora_targets(spec, report, facts)
    check_serving(spec, report)
    check_disk(spec, report, facts)
    return report
