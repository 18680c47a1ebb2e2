"""What `test_perf_trained_logits.test_ddp_ranks_keep_the_losses_and_weights` runs in every rank
of a real `torchrun --nproc-per-node=2` (CPU, gloo): train with the lever on, then off, and
write this rank's losses, lm_head rows and largest weight difference to rank<N>.json.

    python -m torch.distributed.run --standalone --nproc-per-node=2 \
        -m tests.perf.ddp_trained_logits MODEL ROWS OUT
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from tests.perf.perf_helpers import make_spec
from tests.perf.test_perf_trained_logits import train


def main() -> None:
    model, rows, out = (Path(a) for a in sys.argv[1:4])
    rank = int(os.environ["RANK"])
    spec = make_spec(model, rows, max_steps=3, gradient_accumulation_steps=2)
    on = train(spec, out / "on", True)
    off = train(spec, out / "off", False)
    diff = max(
        float((w - off["weights"][k]).abs().max()) / max(1.0, float(off["weights"][k].abs().max()))
        for k, w in on["weights"].items()
    )
    report = {k: on[k] for k in ("losses", "head", "trained")}
    report |= {"off_losses": off["losses"], "off_head": off["head"], "weight_diff": diff}
    (out / f"rank{rank}.json").write_text(json.dumps(report))


if __name__ == "__main__":
    main()
