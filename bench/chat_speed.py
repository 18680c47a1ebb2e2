"""Playground speed on one run: model load time, time to first token and tokens/s.

    PYTHONPATH=. python bench/chat_speed.py runs/demo-<timestamp> [--tokens 128] [--repeats 5]

Greedy; EOS ends an answer as it does in the playground, so the fine-tuned model may stop
early (its token count is printed); the base model rambles up to --tokens.
"""

from __future__ import annotations

import argparse
import statistics
import time


def main() -> None:
    from ftui.core.playground.inference import load_chat_model
    from ftui.core.playground.session import BASE, ChatSession

    parser = argparse.ArgumentParser()
    parser.add_argument("run")
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    started = time.perf_counter()
    cm = load_chat_model(args.run)
    print(f"load: {time.perf_counter() - started:.2f} s on {cm.device}")
    for adapter in (["default"] if cm.has_adapter else []) + [BASE]:
        session = ChatSession(cm, adapter=adapter)
        session.set_settings(max_new_tokens=args.tokens)
        rates, ttfts, counts = [], [], []
        for _ in range(args.repeats):
            session.clear()
            session.send("Tell me about the capitals of Europe.")
            stats = session.last_stats
            assert stats is not None
            rates.append(stats.tokens_per_s)
            ttfts.append((stats.ttft_s or 0) * 1000)
            counts.append(stats.new_tokens)
        print(
            f"{adapter:>8}: {statistics.median(rates):7.1f} tok/s  "
            f"TTFT {statistics.median(ttfts):6.1f} ms  ({statistics.median(counts):.0f} tokens)"
        )


if __name__ == "__main__":
    main()
