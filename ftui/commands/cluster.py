"""`ftui command SPEC`: the exact launch command for every node, or an sbatch script.

ftui command demo                                  # one node: torchrun --standalone
ftui command my.yaml --nnodes 2 --rdzv-endpoint node0:29500
ftui command my.yaml --nnodes 2 --rdzv-endpoint node0:29500 --node-rank 1 --check
ftui command my.yaml --slurm --nnodes 4 --gpus-per-node 8 --out train.sbatch

Nothing is started and nothing is written unless asked: --config PATH writes the resolved
spec, --out FILE the commands or the script.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ftui.commands._common import add_spec_args, fail, load_spec_arg


def register(subparsers) -> None:  # type: ignore[no-untyped-def]
    p = subparsers.add_parser(
        "command",
        help="print the exact torchrun command for every node, or an sbatch script",
        description="Print the launch command(s) that run SPEC: one per node with c10d "
        "rendezvous, or (--slurm) an sbatch script. Nothing is started, and nothing is "
        "written unless you pass --config (the spec) or --out (the output).",
    )
    add_spec_args(p)
    p.add_argument("--nnodes", type=int, help="machines in the job (default: launch.nnodes)")
    p.add_argument("--node-rank", type=int, help="print only this node's command")
    p.add_argument("--rdzv-endpoint", metavar="HOST:PORT", help="node 0's host:port")
    p.add_argument("--rdzv-id", help="shared rendezvous id (default: name + spec hash)")
    p.add_argument("--nproc-per-node", type=int, help="processes per node (default: GPUs)")
    p.add_argument(
        "--config",
        metavar="PATH",
        help="write the resolved spec here, where every node reads it (default: the "
        "commands name a new run dir under output.root, and nothing is written)",
    )
    p.add_argument("--check", action="store_true", help="check this node reaches the endpoint")
    p.add_argument(
        "--slurm", action="store_true", help="print an sbatch script instead (--out writes it)"
    )
    p.add_argument("--gpus-per-node", type=int, help="GPUs per node (--slurm)")
    p.add_argument("--partition", help="Slurm partition (--slurm)")
    p.add_argument("--time", dest="time_limit", help="Slurm time limit, e.g. 12:00:00")
    p.add_argument("--account", help="Slurm account (--slurm)")
    p.add_argument("--out", metavar="FILE", help="write to FILE instead of printing")
    p.set_defaults(handler=_command)


def _emit(text: str, out: str | None, executable: bool = False) -> None:
    if not out:
        sys.stdout.write(text)
        return
    from ftui.core.atomic import atomic_write_text

    atomic_write_text(out, text)
    if executable:
        os.chmod(out, 0o755)
    print(f"wrote {out}", file=sys.stderr)


def _config_path(args, spec) -> str:  # type: ignore[no-untyped-def]
    """Where every node reads the spec. The worker's run dir is its config's folder. Only an
    explicit --config is written; otherwise the commands name the run dir a launch now would
    get, and nothing is created (printing a command starts nothing)."""
    if not args.config:
        from ftui.core.launch.spawn import planned_run_dir
        from ftui.core.runs.rundir import RunPaths

        planned = RunPaths(planned_run_dir(spec)).config.absolute()
        print(
            f"not written: {planned}; add --config {planned} to write the resolved spec "
            "there (every node reads it at that path: shared storage, or copy it)",
            file=sys.stderr,
        )
        return str(planned)
    target = Path(args.config)
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    spec.save(target)
    print(
        f"wrote {target}: every node reads it at this path (shared storage, or copy it); "
        "events, logs and checkpoints go next to it",
        file=sys.stderr,
    )
    return str(target.resolve())


def _slurm(args, spec) -> int:  # type: ignore[no-untyped-def]
    from ftui.core.launch.cluster import default_slurm_config_path, slurm_script

    gpus = args.gpus_per_node or args.nproc_per_node
    if gpus is None and isinstance(spec.launch.nproc_per_node, int):
        gpus = spec.launch.nproc_per_node
    if gpus is None and spec.launch.gpus is not None:
        gpus = len(spec.launch.gpus)
    if gpus is None:
        return fail(
            "--gpus-per-node: give the GPUs per compute node (launch.nproc_per_node is auto "
            "and this machine cannot see the compute nodes)"
        )
    script = slurm_script(
        spec,
        args.config or default_slurm_config_path(spec),
        args.nnodes or spec.launch.nnodes,
        gpus,
        python=sys.executable,
        partition=args.partition,
        time_limit=args.time_limit,
        account=args.account,
        script_path=args.out,
    )
    _emit(script, args.out, executable=True)
    if args.out:
        print(f"submit with: sbatch {args.out}", file=sys.stderr)
    return 0


def _command(args) -> int:  # type: ignore[no-untyped-def]
    from ftui.core.runs.rundir import IN_RUN
    from ftui.core.spec import SpecError

    # Node count and endpoint are spec fields: fold them in so the config matches the command.
    # (Under Slurm the endpoint is only known when the job starts: the script fills it in.)
    if not args.slurm:
        if args.nnodes is not None:
            args.overrides.append(f"launch.nnodes={args.nnodes}")
        if args.rdzv_endpoint is not None:
            args.overrides.append(f"launch.rdzv_endpoint={args.rdzv_endpoint}")
        if args.nproc_per_node is not None:
            args.overrides.append(f"launch.nproc_per_node={args.nproc_per_node}")
    try:
        spec = load_spec_arg(args)
    except SpecError as exc:
        return fail(exc.problems)
    if args.slurm:
        return _slurm(args, spec)
    from ftui.core.launch.cluster import check_rendezvous, node_commands

    nnodes = spec.launch.nnodes
    if args.node_rank is not None and not 0 <= args.node_rank < nnodes:
        return fail(f"--node-rank: {args.node_rank} must be in 0..{nnodes - 1}")

    def build(config: str) -> list:  # type: ignore[type-arg]
        return node_commands(
            spec,
            config,
            nnodes,
            args.rdzv_endpoint,
            args.rdzv_id,
            nproc_per_node=args.nproc_per_node,
        )

    try:
        build(str(IN_RUN.config))  # validate before writing anything
    except ValueError as exc:
        return fail(str(exc))
    commands = build(_config_path(args, spec))
    lines = []
    for cmd in commands:
        if args.node_rank is not None and cmd.node_rank != args.node_rank:
            continue
        where = " (hosts the rendezvous)" if cmd.node_rank == 0 and nnodes > 1 else ""
        lines += [f"# node {cmd.node_rank} of {nnodes}{where}", cmd.display()]
    lines += [f"# {hint}" for hint in commands[0].hints]
    _emit("\n".join(lines) + "\n", args.out)
    if args.check and nnodes > 1:
        rank = args.node_rank or 0
        problem = check_rendezvous(commands[0].rdzv_endpoint or "", hosting=rank == 0)
        if problem:
            return fail(problem, code=1)
        print("rendezvous endpoint: ok", file=sys.stderr)
    return 0
