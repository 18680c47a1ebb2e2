"""The torchrun argv for a spec, always as a list (never a shell string).

One node:   python -m torch.distributed.run --standalone --nproc-per-node N -m ftui.train CONFIG
Many nodes: ... --nnodes N --node-rank R --rdzv-backend c10d --rdzv-endpoint H:P --rdzv-id ID
"""

from __future__ import annotations

import shlex
import sys

from ftui.core.spec import RunSpec


def resolve_nproc(spec: RunSpec, cuda_count: int | None = None) -> int:
    """`auto` = one process per chosen GPU (launch.gpus, else every visible GPU), 1 without GPUs."""
    n = spec.launch.nproc_per_node
    if isinstance(n, int):
        return n
    if spec.launch.gpus is not None:
        return max(1, len(spec.launch.gpus))
    if cuda_count is None:
        from ftui.core.launch.gpu_count import visible_gpu_count

        cuda_count = visible_gpu_count()
    return max(1, cuda_count)


def torchrun_argv(
    spec: RunSpec,
    config_path: str,
    *,
    nproc_per_node: int,
    node_rank: int | None = None,
    rdzv_endpoint: str | None = None,
    rdzv_id: str | None = None,
    python: str | None = None,
    resume: bool = False,
) -> list[str]:
    """The argv for this node's part of the run."""
    la = spec.launch
    argv = [python or sys.executable, "-m", "torch.distributed.run"]
    if la.nnodes == 1:
        argv += ["--standalone", f"--nproc-per-node={nproc_per_node}"]
    else:
        endpoint = rdzv_endpoint or la.rdzv_endpoint
        argv += [
            f"--nnodes={la.nnodes}",
            f"--node-rank={la.node_rank if node_rank is None else node_rank}",
            f"--nproc-per-node={nproc_per_node}",
            "--rdzv-backend=c10d",
            f"--rdzv-endpoint={endpoint}",
            f"--rdzv-id={rdzv_id or spec.name}",
        ]
    argv += ["-m", "ftui.train", config_path]
    if resume:
        argv.append("--resume")
    return argv


def display_command(argv: list[str]) -> str:
    return shlex.join(argv)
