"""What the template budget costs on the normal path: one conversation rendered through the
model's own chat template by transformers (`apply_chat_template`) and by ftui's bounded
renderer (the same sandbox with budget checks), on the real tokenizers.

    python bench/protect/template_cost.py [--n 2000]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def main() -> int:
    from ftui.core.prompt.own_template import render_chat
    from tests.real_artefacts import SMOLLM2, TOKENIZERS, real_tokenizer

    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    n = ap.parse_args().n
    msgs = [
        {"role": "system", "content": "You are helpful."},
        {"role": "user", "content": "What is the capital of France? " * 20},
        {"role": "assistant", "content": "Paris. " * 40},
    ]
    for name in (*TOKENIZERS, SMOLLM2):
        tok = real_tokenizer(name)
        if not getattr(tok, "chat_template", None):
            print(f"{name:<20} has no chat template")
            continue
        assert render_chat(tok, msgs, False) == tok.apply_chat_template(msgs, tokenize=False)
        timings = []
        for fn in (
            lambda tok=tok: tok.apply_chat_template(msgs, tokenize=False),
            lambda tok=tok: render_chat(tok, msgs, False),
        ):
            start = time.perf_counter()
            for _ in range(n):
                fn()
            timings.append((time.perf_counter() - start) / n * 1e6)
        print(
            f"{name:<20} transformers {timings[0]:7.1f} us   bounded {timings[1]:7.1f} us   "
            f"({timings[1] / timings[0]:.2f}x)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
