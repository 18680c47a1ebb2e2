"""Two CPU training levers measured on and off, side by side, on the SmolLM2-135M shape.

    python bench/cpu_levers.py --lever trained_logits   # lm_head on trained rows vs every row
    python bench/cpu_levers.py --lever bf16             # model.dtype bf16 (autocast) vs fp32
    python bench/cpu_levers.py --lever both             # both levers vs neither
    python bench/cpu_levers.py --lever bf16 --shape tiny --steps 10   # a quick look

Both configurations train the same random-init model (SmolLM2-135M's config: llama, 30
layers, hidden 576, vocab 49152, tied embeddings) through ftui's own builders and FtuiTrainer,
with LoRA r 16 on all linear layers, on the same rows of random token ids (prompt ~2/3 of each
row, untrained; answer ~1/3, trained), the same seed. Each run is a fresh child process, so its
peak RSS is its own; the configurations alternate (--runs times) so machine noise hits both.
Speed is real tokens per CPU-second of the child (every thread's time): steadier than wall
time on a shared machine. The loss columns compare the two curves step by step.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent)]
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

SHAPES: dict[str, dict[str, Any]] = {
    "smollm2-135m": dict(
        vocab_size=49152,
        hidden_size=576,
        intermediate_size=1536,
        num_hidden_layers=30,
        num_attention_heads=9,
        num_key_value_heads=3,
        tie_word_embeddings=True,
        rope_theta=100000.0,
        rms_norm_eps=1e-5,
    ),
    "tiny": dict(
        vocab_size=49152,
        hidden_size=192,
        intermediate_size=512,
        num_hidden_layers=4,
        num_attention_heads=4,
        num_key_value_heads=2,
        tie_word_embeddings=True,
    ),
}
LEVERS = {
    "trained_logits": ({"trained_only": True}, {"trained_only": False}),
    "bf16": ({"dtype": "bf16"}, {"dtype": "fp32"}),
    "both": ({"dtype": "bf16", "trained_only": True}, {"dtype": "fp32", "trained_only": False}),
}


def write_model(shape: str, out: Path) -> Path:
    import torch
    from transformers import AutoModelForCausalLM, LlamaConfig

    torch.manual_seed(0)
    config = LlamaConfig(**SHAPES[shape], bos_token_id=1, eos_token_id=2, pad_token_id=0)
    AutoModelForCausalLM.from_config(config).save_pretrained(out)
    return out


def rows(n: int, length: int, vocab: int, seed: int = 0) -> list[dict[str, Any]]:
    """Rows of length/2..3*length/2 tokens; the last third of each carries labels."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        k = rng.randint(length // 2, length * 3 // 2)
        ids = [rng.randrange(3, vocab) for _ in range(k)]
        cut = k * 2 // 3
        out.append({"input_ids": ids, "labels": [-100] * cut + ids[cut:], "length": k})
    return out


def real_rows(n: int, length: int, model: str) -> list[dict[str, Any]]:
    """LLaMA-Factory's alpaca demo rows through SmolLM2's tokenizer: the instruction (and input)
    untrained, the answer trained, cut at 2 x length tokens."""
    from ftui.core.model import artefacts
    from ftui.core.model.tokenizer import load_tokenizer

    tok = load_tokenizer(model, None, False)
    path = artefacts.files_dir("llamafactory-data") / "alpaca_en_demo.json"
    out = []
    for r in json.loads(path.read_text())[:n]:
        prompt = tok(f"{r['instruction']}\n{r['input']}\n".replace("\n\n", "\n"))["input_ids"]
        answer = tok(r["output"])["input_ids"] + [tok.eos_token_id]
        ids = (prompt + answer)[: 2 * length]
        labels = ([-100] * len(prompt) + answer)[: 2 * length]
        out.append({"input_ids": ids, "labels": labels, "length": len(ids)})
    return out


def child(cfg: dict[str, Any]) -> dict[str, Any]:
    """One training run in this process: tokens, CPU seconds, wall seconds, peak RSS, losses."""
    import datasets
    import torch
    from transformers import TrainerCallback

    from ftui.core.runs.rundir import RunPaths
    from ftui.core.spec import spec_from_dict
    from ftui.train.build import build_model, build_training_args, resolve_dtype
    from ftui.train.collator import DynamicPadCollator, TokenCounter
    from ftui.train.trainer import FtuiTrainer

    torch.set_num_threads(cfg["threads"])
    spec = spec_from_dict(
        {
            "name": "levers",
            "model": {"name_or_path": cfg["model"], "dtype": cfg.get("dtype", "fp32")},
            "data": {"source": "unused.jsonl"},
            "method": {"kind": "lora", "lora": {"r": 16, "alpha": 32, "dropout": 0.0}},
            "train": {
                "max_steps": cfg["steps"],
                "per_device_batch_size": cfg["batch"],
                "learning_rate": 2e-4,
                "logging_steps": 1,
                "save_steps": None,
                "seed": 7,
            },
        }
    )
    work = Path(cfg["work"])
    args = build_training_args(spec, RunPaths(work / "run"))
    model = build_model(spec, args)
    n = cfg["steps"] * cfg["batch"]
    if cfg["real"]:
        data = real_rows(n, cfg["length"], cfg["model"])
    else:
        data = rows(n, cfg["length"], SHAPES[cfg["shape"]]["vocab_size"])
    counter = TokenCounter()
    losses: list[float] = []

    class Record(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kw):  # type: ignore[no-untyped-def]
            if logs and "loss" in logs:
                losses.append(float(logs["loss"]))

    trainer = FtuiTrainer(
        model=model,
        args=args,
        train_dataset=datasets.Dataset.from_list(data),
        data_collator=DynamicPadCollator(0, counter),
        callbacks=[Record()],
        logits_on_trained_only=cfg.get("trained_only", True),
    )
    cpu, wall = time.process_time(), time.perf_counter()
    trainer.train()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return {
        "dtype": resolve_dtype(spec),
        "tokens": counter.real,
        "cpu_s": cpu,
        "wall_s": wall,
        "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "losses": losses,
    }


def run_child(cfg: dict[str, Any]) -> dict[str, Any]:
    argv = [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(cfg)]
    done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"child failed ({cfg}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--lever", choices=sorted(LEVERS), default="trained_logits")
    p.add_argument("--shape", choices=sorted(SHAPES), default="smollm2-135m")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--length", type=int, default=256, help="mean row length in tokens")
    p.add_argument("--runs", type=int, default=2, help="runs per configuration (median)")
    p.add_argument("--threads", type=int, default=1, help="torch threads per run")
    p.add_argument(
        "--real",
        action="store_true",
        help="the real SmolLM2-135M-Instruct weights (`ftui fetch`) on LLaMA-Factory's alpaca "
        "demo rows: loss curves that mean something (speed is the shape's either way)",
    )
    p.add_argument("--child", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child:
        print(json.dumps(child(json.loads(a.child))))
        return 0
    on, off = LEVERS[a.lever]
    with tempfile.TemporaryDirectory(prefix="ftui-levers-") as tmp:
        if a.real:
            from ftui.core.model import artefacts

            model = artefacts.path("smollm2-135m-instruct")
        else:
            model = write_model(a.shape, Path(tmp) / "model")
        base = dict(vars(a), model=str(model), work=tmp)
        base.pop("child")
        results: dict[str, list[dict[str, Any]]] = {"on": [], "off": []}
        for _ in range(a.runs):
            for name, extra in (("on", on), ("off", off)):
                results[name].append(run_child({**base, **extra}))
    summary = {name: summarise(rs) for name, rs in results.items()}
    curve_on, curve_off = results["on"][0]["losses"], results["off"][0]["losses"]
    rel = [abs(x - y) / abs(y) for x, y in zip(curve_on, curve_off, strict=True)]
    what = "real SmolLM2-135M-Instruct, alpaca demo rows" if a.real else f"{a.shape}, random"
    print(f"lever {a.lever} on {what}: {a.steps} steps, batch {a.batch}, ~{a.length} tokens")
    print(f"{'':>5} {'dtype':>6} {'tok/CPU-s':>10} {'tok/s':>8} {'peak RSS':>9}  loss first/last")
    for name, s in summary.items():
        c = results[name][0]["losses"]
        print(
            f"{name:>5} {s['dtype']:>6} {s['tok_per_cpu_s']:>10.1f} {s['tok_per_s']:>8.1f} "
            f"{s['peak_rss'] / 2**20:>7.0f}Mi  {c[0]:.4f} / {c[-1]:.4f}"
        )
    speed = summary["on"]["tok_per_cpu_s"] / summary["off"]["tok_per_cpu_s"]
    memory = summary["on"]["peak_rss"] / summary["off"]["peak_rss"]
    print(f"on/off: {speed:.2f}x tokens per CPU-second, {memory:.2f}x peak RSS")
    print(f"loss curves: max relative difference {max(rel):.2e} (mean {statistics.mean(rel):.2e})")
    out = {"lever": a.lever, "shape": a.shape, "speed_ratio": speed, "rss_ratio": memory}
    print(json.dumps({**out, "max_rel_loss_diff": max(rel), "summary": summary}))
    return 0


def summarise(rs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "dtype": rs[0]["dtype"],
        "tok_per_cpu_s": statistics.median(r["tokens"] / r["cpu_s"] for r in rs),
        "tok_per_s": statistics.median(r["tokens"] / r["wall_s"] for r in rs),
        "peak_rss": statistics.median(r["peak_rss"] for r in rs),
    }


if __name__ == "__main__":
    raise SystemExit(main())
