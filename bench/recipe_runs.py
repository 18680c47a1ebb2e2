"""What each bench method name runs, and one timed run of it in a child process of its own.

On the CPU a run's peak RSS is only its own in a fresh process: glibc keeps what an earlier run
freed, so in one process the later recipes would inherit the earlier ones' high-water mark.
Each run is forked from a server that has only imported the libraries (multiprocessing's
forkserver, preloaded), so a child starts in a second, not in the 10 s of importing torch,
transformers and TRL, and has run no torch op before (no OpenMP pool to inherit). The child's
peak is measured above its own baseline: RSS after the data is built, before the model loads.
"""

from __future__ import annotations

import gc
import importlib.util
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import recipes
import tuned_recipes

# Method name -> (recipe, its precision override or None for the bench's, ftui's logits lever).
FTUI_METHODS = {
    "ftui": (False, None, True),
    "ftui+packing": (True, None, True),
    "ftui-nologits": (False, None, False),
    "ftui-fp32": (False, "fp32", True),
}
METHODS = ("padded", "sft", "sft_tuned", "hf_grouped", *FTUI_METHODS)
PRELOAD = ("torch", "transformers", "peft", "trl", "datasets", "ftui.train.build", "tuned_recipes")


def run_one(
    method: str, s: recipes.Setup, shared: dict[str, Any], precision: str
) -> recipes.Measured:
    """One run of `method` in this process, at the bench's `precision` (bf16 | fp32)."""
    if method == "padded":
        return recipes.padded_recipe(s, shared["tokenised"], precision)
    if method == "hf_grouped":
        return tuned_recipes.hf_grouped_recipe(s, shared["tokenised"], precision)
    if method == "sft":
        return recipes.sft_recipe(s, shared["raw"])  # TRL's defaults, its precision too
    if method == "sft_tuned":
        return tuned_recipes.sft_tuned_recipe(s, shared["raw"], precision)
    packing, own, logits = FTUI_METHODS[method]
    return recipes.ftui_recipe(
        s, packing=packing, dtype=own or precision, logits_on_trained_only=logits
    )


class Isolated:
    """Runs `measured_in_child` in a new child process per call."""

    def __init__(self) -> None:
        self.ctx = multiprocessing.get_context("forkserver")
        self.ctx.set_forkserver_preload([m for m in PRELOAD if importlib.util.find_spec(m)])

    def run(
        self, method: str, s: recipes.Setup, shared: dict[str, Any], precision: str, threads: int
    ) -> recipes.Measured:
        data = {
            "tokenised": shared["tokenised"].to_dict(),
            "raw": shared["raw"].to_list(),
        }
        with ProcessPoolExecutor(1, mp_context=self.ctx, max_tasks_per_child=1) as pool:
            return pool.submit(measured_in_child, method, s, data, precision, threads).result()


def measured_in_child(
    method: str, s: recipes.Setup, data: dict[str, Any], precision: str, threads: int
) -> recipes.Measured:
    import datasets
    import torch
    from transformers.utils import logging

    from ftui.core.runs.processes import own_resident_bytes

    # The libraries' warnings and per-run logs go to a file; the bench's own lines stay readable.
    s.work.mkdir(parents=True, exist_ok=True)
    log = os.open(s.work / "runs.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(log, 1)
    os.dup2(log, 2)
    logging.disable_progress_bar()
    torch.set_num_threads(threads)
    shared = {
        "tokenised": datasets.Dataset.from_dict(data["tokenised"]),
        "raw": datasets.Dataset.from_list(data["raw"]),
    }
    gc.collect()
    recipes._malloc_trim()
    base = own_resident_bytes() or 0
    x = run_one(method, s, shared, precision)
    x.model = None
    x.peak_mem_gb = max(0.0, x.peak_mem_gb - base / 2**30)
    return x
