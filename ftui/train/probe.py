"""The measured probe: a few real training steps at the worst case (every row data.max_seq_len
tokens long) on this machine, before the real launch. Prints one JSON line:

    python -m ftui.train.probe CONFIG [--steps 3]

It reports the memory after loading (weights, adapters) and at the peak of a step, and real
tokens/s. `ftui.core.probe` turns that into a batch size, accumulation and ETA.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ftui.core.spec import RunSpec, load_spec_file


def _memory() -> tuple[str, int]:
    import torch

    if torch.cuda.is_available():
        return "cuda", int(torch.cuda.max_memory_allocated())
    with open("/proc/self/status") as fh:  # VmHWM: the process's peak resident memory
        for line in fh:
            if line.startswith("VmHWM:"):
                return "cpu", int(line.split()[1]) * 1024
    return "cpu", 0


def worst_case_batch(spec: RunSpec, tokenizer: Any, train_ds: Any) -> dict[str, Any]:
    """per_device_batch_size rows of exactly max_seq_len tokens, cut from the longest rows."""
    import torch

    n, length = spec.train.per_device_batch_size, spec.data.max_seq_len
    longest = sorted(range(len(train_ds)), key=lambda i: -len(train_ds[i]["input_ids"]))[:n]
    rows = []
    for k in range(n):
        ids = list(train_ds[longest[k % len(longest)]]["input_ids"])
        rows.append((ids * (length // max(1, len(ids)) + 1))[:length])
    ids = torch.tensor(rows, dtype=torch.long)
    return {"input_ids": ids, "labels": ids.clone(), "attention_mask": torch.ones_like(ids)}


def probe(spec: RunSpec, steps: int) -> dict[str, Any]:
    import torch

    from ftui.core.rundir import RunPaths
    from ftui.train.build import build_datasets, build_model, build_tokenizer, build_training_args

    tokenizer, tokenizer_dir = build_tokenizer(spec)
    train_ds, _, stats, _ = build_datasets(spec, tokenizer, tokenizer_dir)
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
    batch = {k: v.to(device) for k, v in worst_case_batch(spec, tokenizer, train_ds).items()}
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        loss = model(**batch).loss
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        if device == "cuda":
            torch.cuda.synchronize()  # a probe, not training: the sync is what we measure
        times.append(time.perf_counter() - start)
    _, peak = _memory()
    step_s = sorted(times)[len(times) // 2]
    tokens = batch["input_ids"].numel()
    return {
        "device": kind,
        "loaded_bytes": loaded,
        "peak_bytes": peak,
        "batch": spec.train.per_device_batch_size,
        "seq_len": spec.data.max_seq_len,
        "step_s": step_s,
        "tokens_per_s": tokens / step_s if step_s else 0.0,
        "train_tokens": stats.tokens,
        "train_rows": stats.kept,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ftui.train.probe")
    parser.add_argument("config")
    parser.add_argument("--steps", type=int, default=3)
    args = parser.parse_args(argv)
    result = probe(load_spec_file(args.config), max(1, args.steps))
    sys.stdout.write("FTUI_PROBE " + json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
