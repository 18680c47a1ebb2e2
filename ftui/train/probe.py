"""The measured probe: a few real training steps at the worst case (every row data.max_seq_len
tokens long) on this machine, before the real launch. Prints one JSON line:

    python -m ftui.train.probe CONFIG [--steps 3]

It reports the memory after loading (weights, adapters) and at the peak of a step, and real
tokens/s. `ftui.core.check.probe` turns that into a batch size, accumulation and ETA.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ftui.core.runs.processes import own_peak_resident_bytes
from ftui.core.spec import RunSpec, load_spec_file


def _memory() -> tuple[str, int]:
    import torch

    if torch.cuda.is_available():
        return "cuda", int(torch.cuda.max_memory_allocated())
    return "cpu", own_peak_resident_bytes() or 0


def stage(text: str) -> None:
    """A progress line for the parent (`ftui.core.check.probe.run_probe` passes it to the UI)."""
    sys.stdout.write(f"FTUI_PROBE_STAGE {text}\n")
    sys.stdout.flush()


def worst_case_batch(spec: RunSpec, tokenizer: Any, train_ds: Any, n: int) -> dict[str, Any]:
    """n rows of exactly max_seq_len tokens, cut from the longest rows."""
    import torch

    length = spec.data.max_seq_len
    longest = sorted(range(len(train_ds)), key=lambda i: -len(train_ds[i]["input_ids"]))[:n]
    rows = []
    for k in range(n):
        ids = list(train_ds[longest[k % len(longest)]]["input_ids"])
        rows.append((ids * (length // max(1, len(ids)) + 1))[:length])
    ids = torch.tensor(rows, dtype=torch.long)
    return {"input_ids": ids, "labels": ids.clone(), "attention_mask": torch.ones_like(ids)}


def with_backoff(
    measure: Callable[[int], list[float]], batch: int
) -> tuple[int, list[float], list[int]]:
    """Run `measure(batch)`; on out-of-memory halve the batch and try again, down to 1.
    Returns (the batch that ran, its step times, the batches that ran out of memory)."""
    import torch

    failed: list[int] = []
    while True:
        try:
            return batch, measure(batch), failed
        except torch.OutOfMemoryError:
            failed.append(batch)
            if batch == 1:
                raise
            batch = max(1, batch // 2)
            stage(f"out of memory at batch {failed[-1]}: trying batch {batch}")
            if torch.cuda.is_available():
                torch.cuda.empty_cache()


def probe(spec: RunSpec, steps: int) -> dict[str, Any]:
    import torch

    from ftui.core.runs.rundir import RunPaths
    from ftui.train.build import build_datasets, build_model, build_tokenizer, build_training_args

    stage("reading and tokenising the data")
    tokenizer, tokenizer_dir = build_tokenizer(spec)
    train_ds, _, stats, _ = build_datasets(spec, tokenizer, tokenizer_dir)
    stage("loading the model")
    args = build_training_args(spec, RunPaths(Path(tempfile.mkdtemp(prefix="ftui-probe-"))))
    model = build_model(spec, args)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model.to(device)
    model.train()
    if spec.train.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=spec.train.learning_rate)
    kind, loaded = _memory()

    def measure(n: int) -> list[float]:
        batch = {k: v.to(device) for k, v in worst_case_batch(spec, tokenizer, train_ds, n).items()}
        times = []
        for i in range(steps):
            stage(f"step {i + 1}/{steps} at batch {n} x {spec.data.max_seq_len} tokens")
            start = time.perf_counter()
            loss = model(**batch).loss
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
            if device == "cuda":
                torch.cuda.synchronize()  # a probe, not training: the sync is what we measure
            times.append(time.perf_counter() - start)
        return times

    n, times, oom = with_backoff(measure, spec.train.per_device_batch_size)
    _, peak = _memory()
    step_s = sorted(times)[len(times) // 2]
    tokens = n * spec.data.max_seq_len
    return {
        "device": kind,
        "loaded_bytes": loaded,
        "peak_bytes": peak,
        "batch": n,
        "seq_len": spec.data.max_seq_len,
        "step_s": step_s,
        "tokens_per_s": tokens / step_s if step_s else 0.0,
        "train_tokens": stats.tokens,
        "train_rows": stats.kept,
        "oom_batches": oom,
    }


def _exit_with_parent() -> None:
    """The probe is the UI's child: if the UI dies (even by SIGKILL), stop too."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(3)

    threading.Thread(target=watch, daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ftui.train.probe")
    parser.add_argument("config")
    parser.add_argument("--steps", type=int, default=3)
    args = parser.parse_args(argv)
    _exit_with_parent()
    result = probe(load_spec_file(args.config), max(1, args.steps))
    sys.stdout.write("FTUI_PROBE " + json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
