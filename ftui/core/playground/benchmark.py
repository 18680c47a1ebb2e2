"""`ftui eval`: a quick benchmark of the base model and the fine-tuned one through EleutherAI's
lm-eval harness (the optional `lm-eval` extra), a few samples a task (`--limit`), written to
the run's lm_eval.json for the eval card (ftui.core.runs.benchmark words it).

Both models are loaded as the playground loads them (`load_chat_model`: the run's weights
choice, safetensors only, the spec's trust_remote_code) and handed to lm-eval's `hf` model
(`HFLM`) ready-made, so lm-eval never loads weights of its own. A task's dataset is built by
lm-eval through `datasets`: a hub task needs the hub once (then its cache); offline, a task of
your own from `--include-path` (dataset_path: json over a local .jsonl) works as it is.
"""

from __future__ import annotations

import importlib.metadata
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ftui.core.atomic import atomic_write_json
from ftui.core.playground.inference import load_chat_model, run_weights_dir
from ftui.core.runs.benchmark import BATCH_SIZE, DEFAULT_LIMIT, DEFAULT_TASKS, scores
from ftui.core.runs.checkpoints import CheckpointChoice
from ftui.core.runs.rundir import RunPaths
from ftui.core.spec import load_spec_file

# datasets' packaged builders: a task over one of them reads local files, never the hub
LOCAL_BUILDERS = frozenset({"json", "csv", "parquet", "text", "arrow", "pandas"})
LOCAL_TASK_HINT = (
    "use --include-path DIR with a task of your own over a local file "
    "(dataset_path: json, dataset_kwargs: {data_files: rows.jsonl})"
)
Progress = Callable[[str], None]


class BenchmarkError(ValueError):
    pass


def lm_eval_version() -> str:
    """The installed lm-eval's version, or BenchmarkError saying how to install it."""
    try:
        return importlib.metadata.version("lm_eval")
    except importlib.metadata.PackageNotFoundError:
        raise BenchmarkError(
            "lm-eval is not installed: pip install 'ftui[lm-eval]' (or pip install lm-eval)"
        ) from None


def _datasets_offline() -> bool:
    from datasets import config  # HF_DATASETS_OFFLINE, else HF_HUB_OFFLINE

    return bool(config.HF_HUB_OFFLINE)


def _dataset_problem(name: str, cfg: dict[str, Any], exc: Exception) -> str:
    path = cfg.get("dataset_path")
    if isinstance(exc, OSError) and isinstance(path, str) and path not in LOCAL_BUILDERS:
        why = (
            "this is offline (HF_HUB_OFFLINE or HF_DATASETS_OFFLINE is set)"
            if _datasets_offline()
            else "the hub could not be reached"
        )
        return (
            f"task {name} needs its dataset {path} from the Hugging Face hub, and {why}: run "
            f"it once where the hub is reachable (datasets keeps a copy), or {LOCAL_TASK_HINT}"
        )
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"task {name}: lm-eval could not build it ({type(exc).__name__}: {detail})"


def load_tasks(
    names: Sequence[str], include_path: str | Path | None = None, progress: Progress | None = None
) -> tuple[Any, dict[str, Any]]:
    """lm-eval's TaskManager and each named task (or group) built, its dataset loaded: every
    task problem is found here, before a model is loaded. Only `include_path` is indexed when
    it holds every task named (lm-eval's own catalogue takes about half a minute to index)."""
    from lm_eval.tasks import TaskManager

    report = progress or (lambda line: None)
    if include_path is not None and not Path(include_path).is_dir():
        raise BenchmarkError(f"--include-path {include_path}: no such directory")
    manager = None
    if include_path is not None:
        manager = TaskManager(include_path=str(include_path), include_defaults=False)
        if any(name not in manager.task_index for name in names):
            manager = None
    if manager is None:
        report("indexing lm-eval's tasks (about half a minute)")
        manager = TaskManager(include_path=None if include_path is None else str(include_path))
    unknown = [name for name in names if name not in manager.task_index]
    if unknown:
        where = f" nor in --include-path {include_path}" if include_path is not None else ""
        raise BenchmarkError(
            f"unknown lm-eval task {', '.join(unknown)}: not among lm-eval's tasks{where} "
            "(list them with `lm-eval ls tasks`)"
        )
    built: dict[str, Any] = {}
    for name in names:
        report(f"loading task {name}")
        try:
            loaded = manager.load([name])
        except Exception as exc:  # a task YAML can fail any way; say which task and why
            cfg = manager.task_index[name].cfg or {}
            raise BenchmarkError(_dataset_problem(name, cfg, exc)) from None
        groups = loaded["groups"]
        built[name] = groups[name] if name in groups else loaded["tasks"].get(name)
        if built[name] is None:  # a tag: its tasks
            built[name] = list(loaded["tasks"].values())
    return manager, built


def _evaluate(lm: Any, task: Any, manager: Any, limit: float | None) -> dict[str, Any]:
    import lm_eval

    result = lm_eval.simple_evaluate(
        model=lm,
        tasks=task if isinstance(task, list) else [task],
        limit=limit,
        task_manager=manager,
        log_samples=False,
        bootstrap_iters=0,  # no stderr: a quick look on a few samples
        confirm_run_unsafe_code=False,  # tasks that execute model-written code stay refused
    )
    assert result is not None  # None only on a rank other than 0; this is one process
    return result


def run_benchmark(
    run_dir: str | Path,
    tasks: Sequence[str] = DEFAULT_TASKS,
    limit: float | None = DEFAULT_LIMIT,
    include_path: str | Path | None = None,
    checkpoint: CheckpointChoice = None,
    batch_size: int = BATCH_SIZE,
    device: str | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """lm-eval on `tasks` for the base model, then the fine-tuned one; the record, also
    written to the run's lm_eval.json. BenchmarkError (or InferenceError) on what cannot run."""
    version = lm_eval_version()
    report = progress or (lambda line: None)
    run = Path(run_dir)
    paths = RunPaths(run)
    spec = load_spec_file(paths.config)
    weights = run_weights_dir(run, checkpoint)  # no weights: said before anything slow
    logging.getLogger("lm_eval").setLevel(logging.ERROR)  # ftui says what runs, below
    manager, built = load_tasks(tasks, include_path, report)
    from lm_eval.models.huggingface import HFLM

    results: dict[str, dict[str, Any]] = {name: {} for name in tasks}
    models = (("base", True, spec.model.name_or_path), ("tuned", False, weights.name))
    for which, base, label in models:
        report(f"loading the {which} model ({label})")
        chat = load_chat_model(run, base=base, checkpoint=checkpoint, device=device)
        lm = HFLM(pretrained=chat.model, tokenizer=chat.tokenizer, batch_size=batch_size)
        for i, name in enumerate(tasks, 1):
            shown = f", --limit {limit:g}" if limit is not None else ""
            report(f"[{which} {i}/{len(tasks)}] {label}: lm-eval {name}{shown}")
            out = _evaluate(lm, built[name], manager, limit)
            task_result = out["results"].get(name) or next(iter(out["results"].values()))
            results[name][which] = scores(task_result)
            samples = out.get("n-samples", {}).get(name, {}).get("effective")
            if isinstance(samples, int):
                results[name]["samples"] = samples
        del lm, chat
    record = {
        "t": time.time(),
        "lm_eval_version": version,
        "tasks": list(tasks),
        "limit": limit,
        "base": spec.model.name_or_path,
        "weights": weights.name,
        "results": results,
    }
    atomic_write_json(paths.lm_eval, record)
    return record
