"""Compare answers: base vs fine-tuned, and every saved checkpoint on a list of probe prompts.

One model stays in memory. The base answer is the same weights with the adapter switched off
(`disable_adapter()`); each checkpoint's adapter is loaded next to the first one by name
(`load_adapter(path, adapter_name=...)`) and made active with `set_adapter`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ftui.core.playground.inference import ChatModel, InferenceError, generate_ids, prompt_ids
from ftui.core.playground.session import BASE, use_adapter
from ftui.core.prompt.templates import Message
from ftui.core.runs.checkpoints import (
    checkpoint_is_complete,
    list_checkpoints,
    recorded_eval_loss,
)
from ftui.core.runs.rundir import RunPaths, checkpoint_step
from ftui.core.spec import GenerationSection, RunSpec


@dataclass(frozen=True)
class AdapterSource:
    name: str  # "final" or "step-N"
    path: Path
    step: int | None  # None for final/
    eval_loss: float | None = None  # what it was saved with (eval.json), None without eval rows


@dataclass(frozen=True)
class Probe:
    prompt: str
    expected: str | None = None  # the dataset's answer, when the probe came from the data


def adapter_sources(run_dir: str | Path) -> list[AdapterSource]:
    """Complete checkpoints that hold an adapter, oldest first, then final/ if complete.

    A checkpoint being written right now (no COMPLETE marker, or a file that does not parse)
    is left out; it is never renamed from here, since the run may still be writing it.
    """
    paths = RunPaths(Path(run_dir))
    out: list[AdapterSource] = []
    if paths.checkpoints.is_dir():
        for path in reversed(list_checkpoints(paths.root)):
            step = checkpoint_step(path)
            if (
                step is not None
                and (path / "adapter_config.json").is_file()
                and checkpoint_is_complete(path)
            ):
                out.append(AdapterSource(f"step-{step}", path, step, recorded_eval_loss(path)))
    if (paths.final / "adapter_config.json").is_file() and checkpoint_is_complete(paths.final):
        final = paths.final
        out.append(AdapterSource(final.name, final, None, recorded_eval_loss(final)))
    return out


def best_source(sources: list[AdapterSource]) -> AdapterSource | None:
    """The source with the lowest eval loss (the later one on a tie), as `best_checkpoint`."""
    best: AdapterSource | None = None
    for source in sources:
        loss = source.eval_loss
        if loss is not None and (best is None or best.eval_loss is None or loss <= best.eval_loss):
            best = source
    return best


def source_label(source: AdapterSource, best: AdapterSource | None) -> str:
    """A picker's label: "step-8 · eval 1.234 · best"."""
    parts = [source.name]
    if source.eval_loss is not None:
        parts.append(f"eval {source.eval_loss:.3f}")
    if best is not None and source.path == best.path:
        parts.append("best")
    return " · ".join(parts)


def ensure_adapter(cm: ChatModel, source: AdapterSource) -> str:
    """Load a checkpoint's adapter into the model (once); returns the name to select it by."""
    if not cm.has_adapter:
        raise InferenceError(
            "this model was loaded without an adapter (a full fine-tune or --base): "
            "checkpoints cannot be switched in"
        )
    wanted = str(source.path.resolve())
    for name, path in cm.adapters.items():
        if str(Path(path).resolve()) == wanted:
            return name
    with cm.lock:
        cm.model.load_adapter(str(source.path), adapter_name=source.name)
        cm.model.to(cm.device)
        cm.model.eval()
        cm.adapters[source.name] = str(source.path)
    return source.name


def answer_with(
    cm: ChatModel,
    prompt: str,
    adapter: str,
    settings: GenerationSection | None = None,
    system: str | None = None,
) -> str:
    """One answer from one adapter (or BASE), with the given settings (default: the spec's)."""
    g = settings or cm.spec.generation
    messages = ([Message("system", system)] if system else []) + [Message("user", prompt)]
    ids = prompt_ids(cm, messages)
    with cm.lock:
        on = use_adapter(cm, adapter)
        new = generate_ids(
            cm.model,
            cm.tokenizer,
            ids,
            cm.spec,
            max_new_tokens=g.max_new_tokens,
            adapter=on,
            temperature=g.temperature,
            top_k=g.top_k,
            top_p=g.top_p,
        )
    return cm.tokenizer.decode(new, skip_special_tokens=True).strip()


def compare_base(
    cm: ChatModel,
    prompt: str,
    adapter: str = "default",
    settings: GenerationSection | None = None,
    system: str | None = None,
) -> dict[str, str]:
    """The same prompt answered by the base model and by the fine-tuned one."""
    return {
        BASE: answer_with(cm, prompt, BASE, settings, system),
        adapter: answer_with(cm, prompt, adapter, settings, system),
    }


def probe_prompts(spec: RunSpec, limit: int = 5) -> list[Probe]:
    """The first rows of the eval split (or of the training split when there is none)."""
    from ftui.core.data.dataset import load_train_eval, resolve_mapping, row_to_conversation

    train, ev = load_train_eval(spec)
    ds = ev if ev is not None and len(ev) else train
    rows = [ds[i] for i in range(min(limit, len(ds)))]
    det = resolve_mapping(spec.data, list(ds.column_names), rows)
    out: list[Probe] = []
    for row in rows:
        conv = row_to_conversation(row, det)
        users = [m.content for m in conv.turns if m.role == "user"]
        answers = [m.content for m in conv.turns if m.role == "assistant"]
        if not users:
            continue
        prompt = users[0] + (f"\n\n{conv.input}" if conv.input else "")
        out.append(Probe(prompt, answers[0] if answers else None))
    return out


Cell = Callable[[int, str, str], None]  # (probe index, column name, answer)


def probe_table(
    cm: ChatModel,
    sources: list[AdapterSource],
    probes: list[Probe],
    on_cell: Cell | None = None,
    include_base: bool = True,
    settings: GenerationSection | None = None,
) -> dict[str, list[str]]:
    """column name -> answers, one per probe. Columns: base (optional), then each source."""
    columns = ([BASE] if include_base else []) + [ensure_adapter(cm, s) for s in sources]
    labels = ([BASE] if include_base else []) + [s.name for s in sources]
    table: dict[str, list[str]] = {label: [] for label in labels}
    for label, name in zip(labels, columns, strict=True):
        for i, probe in enumerate(probes):
            text = answer_with(cm, probe.prompt, name, settings)
            table[label].append(text)
            if on_cell:
                on_cell(i, label, text)
    return table
