"""RunSpec: the one config. It is the preset format, the run's config.yaml and what --set edits.

Every field has a docstring; they become the wizard's help text and `--help` text.
Contradictions between settings are rejected in one place: `RunSpec._check_contradictions`.
"""

from __future__ import annotations

import re
import stat
import string
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic.fields import FieldInfo

from ftui.core.atomic import atomic_write_text
from ftui.core.data.eval_split import is_off as eval_split_is_off

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
TemplateName = Literal[
    "alpaca",
    "llama2",
    "llama3",
    "chatml",
    "mistral",
    "summarize",
    "completion",
    "tokenizer",
    "custom",
]
ROLES = ("prompt", "input", "response", "system", "messages", "text")


class SpecError(ValueError):
    """A spec that cannot be used. `problems` holds one line per problem, each naming the field."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


def config_problem(path: Path | str, exc: SpecError) -> str:
    """One line for a run's config.yaml that no longer loads: the file, its first problem, the
    fix."""
    first = exc.problems[0] if exc.problems else "unreadable"
    first = first.removeprefix(f"{path}: ")
    more = f" (and {len(exc.problems) - 1} more)" if len(exc.problems) > 1 else ""
    return (
        f"{path}: the run's config is invalid: {first}{more}; fix or restore that file "
        "(it is the spec the run was launched with)"
    )


class _Section(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        validate_assignment=True,
        use_attribute_docstrings=True,
        coerce_numbers_to_str=True,  # `eval_split: 0.05`, `revision: 1234` are text fields
    )


class ModelSection(_Section):
    name_or_path: str = "builtin:demo-tiny-llama"
    """Hub id (meta-llama/Llama-3.1-8B-Instruct), a local directory, a .gguf file (llama.cpp,
    Ollama; dequantised once into the cache), builtin:demo-tiny-llama (the offline toy) or
    builtin:smollm2-135m-instruct (the real SmolLM2-135M-Instruct, fetched by `ftui fetch`)."""
    revision: str | None = None
    """Hub revision (branch, tag or commit) to pin; required with trust_remote_code."""
    dtype: Literal["auto", "bf16", "fp16", "fp32"] = "auto"
    """Training precision: auto picks bf16 on GPUs that support it and on CPUs with native bf16
    (AVX512-BF16, AMX), else fp16 on a GPU and fp32 on a CPU. bf16 on a CPU is bf16 autocast."""
    attn_implementation: Literal["auto", "sdpa", "eager", "flash_attention_2"] = "auto"
    """Attention kernel: auto uses flash_attention_2 when installed, else sdpa."""
    trust_remote_code: bool = False
    """Run Python code shipped with the model. Only with a pinned revision you have read."""
    quantization: Literal["none", "8bit", "4bit"] = "none"
    """Load the base weights quantized (bitsandbytes, CUDA only); 4bit is what QLoRA uses."""


class DataSection(_Section):
    source: str = "builtin:demo-qa"
    """Hub dataset id, a local file (json, jsonl, csv, tsv, parquet, txt) or directory."""
    subset: str | None = None
    """Hub dataset configuration name (e.g. wikitext-2-raw-v1)."""
    split: str = "train"
    """Split to train on; HF slicing works: train[:2000], train[10%:]."""
    eval_split: str | None = "auto"
    """Eval data: auto (a seeded 5% held out of the train rows; off under 200 rows), none, a
    split name, a slice (validation[:200]) or a held-out fraction (0.05)."""
    format: Literal["auto", "instruction", "chat", "text", "prompt_completion"] = "auto"
    """How rows are read: auto detects it from the columns."""
    columns: dict[str, str] = Field(default_factory=dict)
    """Role -> column name. Roles: prompt, input, response, system, messages, text."""
    max_seq_len: int = Field(default=1024, ge=8, le=1_048_576)
    """Longest tokenised row; longer rows are truncated (never padded up to it)."""
    packing: bool = False
    """Pack rows into one sequence with position_ids so samples never attend to each other."""
    max_row_bytes: int = Field(default=1_048_576, ge=1024, le=2**31)
    """Largest row read, in bytes (one line of a JSONL/CSV/text file, or a row's text); a
    longer row is refused with its number, so one broken row cannot exhaust time and memory."""


class TemplateSection(_Section):
    name: TemplateName = "tokenizer"
    """Prompt format: tokenizer (the model's own chat template, the default), alpaca, llama2,
    llama3, chatml, mistral, summarize, completion or custom."""
    system_prompt: str | None = None
    """System prompt put in front of every row (templates that have one)."""
    custom: str | None = None
    """Custom template with {prompt}, {input}, {system} placeholders and {response} last."""
    train_on_input: bool = False
    """Also train on the prompt tokens. Off: only the response (and EOS) carries labels."""


class LoraSection(_Section):
    r: int = Field(default=8, ge=1, le=4096)
    """LoRA rank: higher = more capacity and memory."""
    alpha: float = Field(default=16, gt=0)
    """LoRA scaling numerator (scale = alpha / r, or alpha / sqrt(r) with rsLoRA)."""
    dropout: float = Field(default=0.05, ge=0, lt=1)
    """Dropout on the LoRA input."""
    target_modules: list[str] | Literal["all-linear"] = "all-linear"
    """Modules that get adapters: all-linear (every linear layer of the model's blocks, not
    the output head; it follows the architecture: q_proj.. on Llama, c_attn.. on GPT-2), or
    a list of module names such as [q_proj, v_proj]."""
    modules_to_save: list[str] = Field(default_factory=list)
    """Modules trained in full next to the adapter (e.g. embed_tokens, lm_head)."""
    use_dora: bool = False
    """Weight-decomposed LoRA (DoRA)."""
    use_rslora: bool = False
    """Rank-stabilised scaling alpha / sqrt(r)."""


class MethodSection(_Section):
    kind: Literal["lora", "qlora", "full"] = "lora"
    """full: every weight; lora: adapters on a frozen base; qlora: adapters on a 4-bit base."""
    lora: LoraSection = Field(default_factory=LoraSection)
    """Adapter settings (lora and qlora)."""


class TrainSection(_Section):
    epochs: float | None = Field(default=1.0, gt=0)
    """Passes over the data (ignored when max_steps is set)."""
    max_steps: int | None = Field(default=None, gt=0)
    """Stop after this many optimizer steps."""
    per_device_batch_size: int = Field(default=4, ge=1, le=65536)
    """Rows per GPU (or CPU process) per forward pass."""
    gradient_accumulation_steps: int = Field(default=1, ge=1, le=65536)
    """Forward passes per optimizer step. Effective batch = batch x accumulation x processes."""
    learning_rate: float = Field(default=2e-4, gt=0, le=10)
    """Peak learning rate."""
    optimizer: Literal["adamw", "sgd", "adafactor", "paged_adamw_8bit"] = "adamw"
    """Optimizer; adamw is fused on CUDA."""
    weight_decay: float = Field(default=0.0, ge=0)
    """Decoupled weight decay."""
    lr_scheduler: Literal[
        "linear", "cosine", "constant", "constant_with_warmup", "cosine_with_restarts"
    ] = "cosine"
    """Learning-rate schedule after warmup."""
    warmup_steps: int = Field(default=0, ge=0)
    """Steps of linear warmup from 0 to the peak learning rate."""
    gradient_checkpointing: bool = False
    """Recompute activations in the backward pass: less memory, about 30% slower."""
    torch_compile: bool = False
    """Compile the model with torch.compile: faster steps after a compile of a minute or more
    at the start (and again for new sequence lengths). Best with fixed-shape batches."""
    seed: int = Field(default=42, ge=0)
    """Seed for init, shuffling and dropout."""
    logging_steps: int = Field(default=10, ge=1)
    """Write a metrics event every N steps."""
    eval_steps: int | None = Field(default=None, ge=1)
    """Evaluate every N steps (needs data.eval_split)."""
    save_steps: int | None = Field(default=500, ge=1)
    """Save a resumable checkpoint every N steps."""
    save_total_limit: int | None = Field(default=2, ge=1)
    """Keep at most this many checkpoints (the newest complete one is never deleted)."""
    report_to: list[Literal["tensorboard", "trackio", "wandb", "mlflow"]] = Field(
        default_factory=list
    )
    """Trackers that also get the metrics: none, or any of tensorboard, trackio, wandb, mlflow
    (e.g. tensorboard, wandb); each installs with the ftui extra of its name. tensorboard
    writes to the run's tensorboard/, the others where their own settings say; their keys come
    from their own login or the environment, never from a spec."""

    @field_validator("report_to", mode="before")
    @classmethod
    def _trackers(cls, value: Any) -> Any:
        """`none`, `tensorboard` or `tensorboard,wandb` as well as a list; none means no tracker."""
        if value is None:
            return []
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            value = list(dict.fromkeys(v for v in value if v != "none"))
        return value  # anything else: the Literal check names the bad item

    def effective_batch(self, world_size: int = 1) -> int:
        """Rows per optimizer step across `world_size` processes (all ranks of all nodes):
        per_device_batch_size x gradient_accumulation_steps x world_size."""
        return self.per_device_batch_size * self.gradient_accumulation_steps * world_size


class LaunchSection(_Section):
    nproc_per_node: Literal["auto"] | int = "auto"
    """Processes per node: auto = one per chosen GPU, or 1 on CPU."""
    gpus: list[int] | None = None
    """GPU indices to use (CUDA_VISIBLE_DEVICES); None = all."""
    nnodes: int = Field(default=1, ge=1)
    """Machines in the job."""
    node_rank: int = Field(default=0, ge=0)
    """This machine's index, 0..nnodes-1."""
    rdzv_endpoint: str | None = None
    """host:port every node reaches for rendezvous (multi-node only)."""
    strategy: Literal["ddp", "fsdp", "deepspeed"] = "ddp"
    """ddp: a full copy per GPU; fsdp: shard weights, grads and optimizer; deepspeed: ZeRO."""


class OutputSection(_Section):
    root: str = "runs"
    """Directory under which each run gets runs/<name>-<timestamp>/."""


class GenerationSection(_Section):
    max_new_tokens: int = Field(default=128, ge=1, le=32768)
    """Longest answer in the playground and in samples."""
    temperature: float = Field(default=0.0, ge=0, le=5)
    """0 = greedy; higher = more random."""
    top_k: int = Field(default=50, ge=0)
    """Sample among the k most likely tokens (0 = off)."""
    top_p: float = Field(default=1.0, gt=0, le=1)
    """Nucleus sampling mass."""


class RunSpec(_Section):
    name: str = Field(default="run", pattern=NAME_PATTERN)
    """Run name: letters, digits, dot, dash, underscore; the run dir is <name>-<timestamp>."""
    model: ModelSection = Field(default_factory=ModelSection)
    """The base model."""
    data: DataSection = Field(default_factory=DataSection)
    """The dataset and how its rows are read."""
    template: TemplateSection = Field(default_factory=TemplateSection)
    """How rows become text, and which tokens are trained."""
    method: MethodSection = Field(default_factory=MethodSection)
    """Full fine-tune, LoRA or QLoRA."""
    train: TrainSection = Field(default_factory=TrainSection)
    """Optimisation settings."""
    launch: LaunchSection = Field(default_factory=LaunchSection)
    """How torchrun starts the workers."""
    output: OutputSection = Field(default_factory=OutputSection)
    """Where runs are written."""
    generation: GenerationSection = Field(default_factory=GenerationSection)
    """Sampling settings for the playground and sample events."""

    @model_validator(mode="after")
    def _check_contradictions(self) -> RunSpec:
        problems = contradictions(self)
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False, allow_unicode=True)

    def save(self, path: str | Path) -> None:
        atomic_write_text(path, self.to_yaml())


def required_roles(spec: RunSpec) -> set[str]:
    """Roles the template needs mapped to a column (empty when format is auto-detected)."""
    if spec.template.name == "custom" and spec.template.custom:
        return {p for p in placeholders(spec.template.custom) if p in ROLES} - {"system"}
    return set()


def placeholders(template: str) -> list[str]:
    return re.findall(r"\{(\w+)\}", template)


def custom_field_problem(template: str) -> str | None:
    """A custom template holds plain {name} fields only: str.format would otherwise reach
    attributes ({prompt.__class__.__mro__}: Python internals in the training text), items,
    conversions and widths ({prompt:>999999999}: a gigabyte)."""
    allowed = ", ".join("{" + r + "}" for r in ("prompt", "input", "system", "response"))
    try:
        fields = [(n, s, c) for _, n, s, c in string.Formatter().parse(template) if n is not None]
    except ValueError as exc:
        return f"template.custom: {exc}; write {{{{ and }}}} for a literal brace"
    for name, spec, conv in fields:
        if re.fullmatch(r"\w+", name) and not spec and not conv:
            continue
        shown = "{" + name + (f"!{conv}" if conv else "") + (f":{spec}" if spec else "") + "}"
        return (
            f"template.custom: field {shown} is not allowed: only plain fields {allowed} "
            "(no attributes, indexes, conversions or format specs); write {{ and }} for a "
            "literal brace"
        )
    return None


def contradictions(spec: RunSpec) -> list[str]:
    """Settings that are each valid but cannot go together, each message naming both."""
    out: list[str] = []
    t, m, tr, la = spec.template, spec.method, spec.train, spec.launch
    if m.kind == "qlora" and spec.model.quantization == "none":
        out.append(
            "method.kind: qlora needs model.quantization 4bit (or 8bit); got none. "
            "Set model.quantization=4bit or method.kind=lora"
        )
    if m.kind == "full" and spec.model.quantization != "none":
        out.append(
            f"method.kind: full fine-tuning cannot train a {spec.model.quantization} quantized "
            "base; use method.kind=qlora or model.quantization=none"
        )
    if tr.epochs is None and tr.max_steps is None:
        out.append("train: set train.epochs or train.max_steps (both are empty)")
    if t.name == "custom":
        if not t.custom:
            out.append("template.custom: template.name is custom but template.custom is empty")
        else:
            names = placeholders(t.custom)
            unknown = [p for p in names if p not in ROLES]
            if problem := custom_field_problem(t.custom):
                out.append(problem)
            elif unknown:
                out.append(
                    f"template.custom: unknown placeholder {{{unknown[0]}}}; "
                    f"allowed: {', '.join('{' + r + '}' for r in ROLES)}"
                )
            if names.count("response") != 1 or not t.custom.rstrip().endswith("{response}"):
                out.append("template.custom: must contain {response} exactly once, at the end")
            cols = spec.data.columns
            if cols:
                missing = sorted(r for r in required_roles(spec) if r not in cols)
                if missing:
                    out.append(
                        f"template.custom: uses {{{missing[0]}}} but data.columns maps no "
                        f"'{missing[0]}' column (mapped: {', '.join(sorted(cols)) or 'none'})"
                    )
    elif t.custom:
        out.append(f"template.custom: only used with template.name custom (got {t.name})")
    bad_roles = sorted(set(spec.data.columns) - set(ROLES))
    if bad_roles:
        out.append(f"data.columns: unknown role '{bad_roles[0]}'; roles are {', '.join(ROLES)}")
    if spec.data.format == "chat" and spec.data.columns and "messages" not in spec.data.columns:
        out.append("data.columns: format chat needs a 'messages' column mapped")
    if tr.eval_steps and eval_split_is_off(spec.data.eval_split):
        out.append("train.eval_steps: set, but data.eval_split is none (nothing to evaluate)")
    if la.node_rank >= la.nnodes:
        out.append(f"launch.node_rank: {la.node_rank} must be below launch.nnodes ({la.nnodes})")
    if la.nnodes > 1 and not la.rdzv_endpoint:
        out.append("launch.rdzv_endpoint: multi-node (launch.nnodes > 1) needs host:port")
    if la.gpus is not None and isinstance(la.nproc_per_node, int):
        if la.nproc_per_node > len(la.gpus):
            out.append(
                f"launch.nproc_per_node: {la.nproc_per_node} processes but launch.gpus lists "
                f"{len(la.gpus)} GPUs"
            )
    if isinstance(la.nproc_per_node, int) and la.nproc_per_node < 1:
        out.append(
            f"launch.nproc_per_node: expected auto or a positive integer, got {la.nproc_per_node}"
        )
    if spec.model.trust_remote_code and not spec.model.revision:
        out.append(
            "model.trust_remote_code: true runs the model's own code; pin model.revision "
            "to a commit you have read"
        )
    return out


# --- loading, overrides and error messages ---------------------------------------------------


def load_yaml_text(text: str, source: str = "spec") -> dict[str, Any]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SpecError([f"{source}: not valid YAML: {exc}".splitlines()[0]]) from None
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        # The YAML parses but a scalar cannot be built (a date like 2020-02-30), or it nests
        # deeper than the parser's stack.
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise SpecError([f"{source}: not valid YAML: {reason}"[:300]]) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SpecError([f"{source}: expected a mapping of sections, got {type(data).__name__}"])
    if _expanded_size(data) > MAX_SPEC_NODES:
        raise SpecError(
            [f"{source}: too large once its aliases are expanded (over {MAX_SPEC_NODES} values)"]
        )
    return data


MAX_SPEC_NODES = 100_000


def _expanded_size(data: Any, memo: dict[int, int] | None = None, depth: int = 0) -> int:
    """How many values `data` holds with YAML aliases expanded (a billion-laughs file is tiny
    on disk and huge in memory), counted without expanding anything."""
    memo = {} if memo is None else memo
    if not isinstance(data, (dict, list)):
        return 1
    if id(data) in memo:
        return memo[id(data)]
    if depth > 200:
        return MAX_SPEC_NODES + 1
    items = list(data.values()) if isinstance(data, dict) else data
    total = 1
    for item in items:
        total += _expanded_size(item, memo, depth + 1)
        if total > MAX_SPEC_NODES:
            break
    memo[id(data)] = total
    return total


def parse_override(item: str) -> tuple[list[str], Any]:
    """`a.b=c` -> (["a", "b"], value). The value is YAML (so 3, true, [a, b] work)."""
    if "=" not in item:
        raise SpecError([f"--set {item!r}: expected key=value, e.g. train.learning_rate=1e-4"])
    key, raw = item.split("=", 1)
    path = [p for p in key.strip().split(".")]
    if not all(path) or not all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", p) for p in path):
        raise SpecError([f"--set {item!r}: bad key {key!r}"])
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except (yaml.YAMLError, ValueError, TypeError, OverflowError, RecursionError):
        value = raw  # not YAML (or a scalar YAML cannot build, like 2020-02-30): plain text
    if isinstance(value, (dict, list)) and _expanded_size(value) > MAX_SPEC_NODES:
        raise SpecError([f"--set {item[:80]!r}: value too large"])
    # YAML 1.1 reads 3e-4 as a string; pydantic coerces numeric strings for number fields.
    return path, value


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    data = _deepcopy(data)
    for item in overrides:
        path, value = parse_override(item)
        try:
            set_value(data, path, value)
        except NotASection as exc:
            raise SpecError([f"--set {item}: {exc.part} is not a section"]) from None
    return data


def _deepcopy(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _deepcopy(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_deepcopy(v) for v in data]
    return data


def spec_from_dict(data: dict[str, Any]) -> RunSpec:
    try:
        return RunSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(format_validation_error(exc)) from None


MAX_SPEC_BYTES = 4 << 20  # a spec is a page of YAML; a bigger file is not one


def read_spec_text(path: str | Path) -> str:
    """A spec file's text: a regular file of at most MAX_SPEC_BYTES, UTF-8; SpecError if not."""
    p = Path(path)
    try:
        st = p.stat()
        if not stat.S_ISREG(st.st_mode):  # /dev/zero or a FIFO would be read without end
            raise SpecError([f"{path}: not a regular file; give a YAML spec file or a preset name"])
        if st.st_size > MAX_SPEC_BYTES:
            raise SpecError(
                [f"{path}: {st.st_size} bytes is not a spec (the limit is {MAX_SPEC_BYTES})"]
            )
        return p.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError([f"{path}: cannot read: {exc.strerror}"]) from None
    except UnicodeDecodeError as exc:
        raise SpecError(
            [f"{path}: not UTF-8 at byte {exc.start}; save the spec as UTF-8"]
        ) from None


def load_spec_file(path: str | Path, overrides: list[str] | None = None) -> RunSpec:
    data = load_yaml_text(read_spec_text(path), str(path))
    return spec_from_dict(apply_overrides(data, overrides or []))


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    """The keys the section holding `loc` allows ([] when `loc` is not inside a section)."""
    return section_keys(loc[:-1])


def _field_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Drop union-branch tags (like "literal['auto']") that pydantic appends to a location."""
    chain = field_chain(loc)
    out = list(loc[: len(chain)])
    if len(chain) < len(loc):
        part = loc[len(chain)]
        tag = isinstance(part, str) and (
            not part.isidentifier() or part in ("int", "str", "float", "bool", "none")
        )
        if chain and _section(chain[-1].annotation) is None and not tag:
            out.append(part)  # a dict key or list index below a field
    return tuple(out)


def _lower_bound(loc: tuple[Any, ...]) -> float | None:
    chain = field_chain(loc)
    if not chain or len(chain) < len(loc):
        return None
    for meta in chain[-1].metadata:
        if getattr(meta, "gt", None) is not None:
            return float(meta.gt)
    return None


def format_validation_error(exc: ValidationError) -> list[str]:
    """One line per error: `field: expected ..., got ...`. Never a traceback."""
    lines: list[str] = []
    expectations: dict[str, tuple[list[str], Any]] = {}
    for err in exc.errors(include_url=False):
        loc = _field_loc(err["loc"])
        field = ".".join(str(p) for p in loc) or "spec"
        kind, ctx, value = err["type"], err.get("ctx", {}) or {}, err.get("input")
        if kind == "extra_forbidden":
            loc = tuple(err["loc"])
            field = ".".join(str(p) for p in loc)
            allowed = _allowed_keys(loc)
            lines.append(f"{field}: unknown key; allowed here: {', '.join(allowed)}")
            continue
        if kind == "value_error":
            msg = str(ctx.get("error", err["msg"]))
            lines.extend(p.strip() for p in msg.removeprefix("Value error, ").split("\n"))
            continue
        if kind in ("float_parsing", "float_type"):
            expected = "a positive number" if _lower_bound(loc) == 0 else "a number"
        elif kind in ("int_parsing", "int_type", "int_from_float"):
            expected = "a whole number"
        elif kind in ("bool_parsing", "bool_type"):
            expected = "true or false"
        elif kind in ("string_type",):
            expected = "text"
        elif kind == "greater_than":
            expected = "a positive number" if ctx.get("gt") == 0 else f"a number > {ctx.get('gt')}"
        elif kind == "greater_than_equal":
            expected = f"a number >= {ctx.get('ge')}"
        elif kind == "less_than":
            expected = f"a number < {ctx.get('lt')}"
        elif kind == "less_than_equal":
            expected = f"a number <= {ctx.get('le')}"
        elif kind == "literal_error":
            expected = f"one of {ctx.get('expected')}"
        elif kind == "string_pattern_mismatch":
            expected = (
                "letters, digits, '.', '-', '_' (at most 64, starting with a letter or digit)"
            )
        elif kind in ("dict_type", "model_type", "model_attributes_type"):
            expected = "a mapping"
        elif kind == "list_type":
            expected = "a list"
        elif kind == "missing":
            lines.append(f"{field}: required")
            continue
        else:
            expected = err["msg"].lower()
        # Unions report one error per branch: merge them into one line per field.
        if field in expectations:
            expectations[field][0].append(expected)
            continue
        expectations[field] = ([expected], value)
        lines.append(field)
    out = []
    for line in lines:
        if line in expectations:
            wanted, value = expectations[line]
            out.append(f"{line}: expected {' or '.join(wanted)}, got {_describe(value)}")
        else:
            out.append(line)
    return out or [str(exc)]


def field_help(path: str) -> str:
    """The docstring of a field, e.g. field_help('train.learning_rate')."""
    return (spec_field(path).description or "").strip()


# --- walking the spec: dotted paths over RunSpec's fields and over a spec's values -----------
# The one walk of each kind: help text, the wizard's widgets and drafts, `--set`, the error
# messages and the resume comparison all go through these.


def _parts(path: str | Sequence[Any]) -> list[str]:
    return path.split(".") if isinstance(path, str) else [str(p) for p in path]


def _section(annotation: Any) -> type[BaseModel] | None:
    """The section model a field holds, or None for a plain value."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def field_chain(path: str | Sequence[Any]) -> list[FieldInfo]:
    """The fields along a path from RunSpec (`train.learning_rate`: the `train` field, then
    `learning_rate`), as far as the path names fields; a shorter list than the path means the
    rest names no field (a key in data.columns, a list index, a union tag or a typo)."""
    out: list[FieldInfo] = []
    model: type[BaseModel] | None = RunSpec
    for part in _parts(path):
        if model is None or part not in model.model_fields:
            break
        info = model.model_fields[part]
        out.append(info)
        model = _section(info.annotation)
    return out


def spec_field(path: str | Sequence[Any]) -> FieldInfo:
    """The field at a dotted path (`train.learning_rate`); KeyError when it names none."""
    chain = field_chain(path)
    if not chain or len(chain) < len(_parts(path)):
        raise KeyError(".".join(_parts(path)))
    return chain[-1]


def section_keys(path: str | Sequence[Any] = ()) -> list[str]:
    """The field names of the section at `path` (RunSpec's sections for the empty path);
    [] when `path` is not a section."""
    parts = _parts(path) if path else []
    chain = field_chain(parts)
    if len(chain) < len(parts):
        return []
    model = _section(chain[-1].annotation) if chain else RunSpec
    return list(model.model_fields) if model else []


class NotASection(SpecError):
    """A path that goes through a value as if it were a section (`train.epochs.x`)."""

    def __init__(self, path: list[str], part: str):
        self.part = part
        super().__init__([f"{'.'.join(path)}: {part} is not a section"])


def get_value(data: dict[str, Any], path: str | Sequence[Any]) -> Any:
    """The value at a dotted path in a spec dict (RunSpec.model_dump), or None if it is not
    there."""
    node: Any = data
    for part in _parts(path):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def set_value(data: dict[str, Any], path: str | Sequence[Any], value: Any) -> None:
    """Set the value at a dotted path in a spec dict, making missing sections on the way."""
    parts = _parts(path)
    node = data
    for part in parts[:-1]:
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise NotASection(parts, part)
        node = child
    node[parts[-1]] = value


def flat_values(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Every value of a spec dict by its dotted path (`{"train.seed": 42, ...}`)."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out.update(flat_values(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out
