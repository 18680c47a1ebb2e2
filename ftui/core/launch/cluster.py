"""Beyond one machine: the torchrun command for every node, a rendezvous pre-check, and an
sbatch script that runs the same spec under Slurm.

Every node runs the same torchrun with `--rdzv-backend=c10d`, the same endpoint (node 0's
host:port, where node 0's agent hosts the rendezvous store) and the same `--rdzv-id`.
c10d needs no MASTER_ADDR/MASTER_PORT; node ranks come from --node-rank (or, under Slurm,
from the rendezvous itself).
"""

from __future__ import annotations

import errno
import shlex
import socket
from dataclasses import dataclass, field

from ftui.core.launch.torchrun import resolve_nproc, torchrun_argv
from ftui.core.runs.rundir import IN_RUN
from ftui.core.spec import RunSpec

DEFAULT_PORT = 29500
RDZV_PLACEHOLDER = "FTUI_RDZV_ENDPOINT"  # replaced by the first node's host:port at job start
NCCL_HINT = (
    "NCCL picks a network interface itself; if ranks hang at start or use a slow link, set "
    "NCCL_SOCKET_IFNAME to the interface the nodes share (e.g. ib0, eth0, ens5) on every node"
)
OFFLINE_HINT = (
    "HF_HUB_OFFLINE=1 so no rank downloads: run `ftui download MODEL` once first "
    "(shared HF cache) or on each node"
)


@dataclass
class NodeCommand:
    node_rank: int
    argv: list[str]
    env: dict[str, str]
    hints: list[str] = field(default_factory=list)
    rdzv_endpoint: str | None = None

    def display(self) -> str:
        """`VAR=value ... python -m torch.distributed.run ...`, shell-quoted."""
        prefix = [f"{k}={shlex.quote(v)}" for k, v in self.env.items()]
        return " ".join(prefix + [shlex.quote(a) for a in self.argv])


def default_rdzv_id(spec: RunSpec) -> str:
    """The run name, as torchrun_argv (and so `ftui run` on each node) uses: every node that
    starts the same spec, whichever way, joins the same rendezvous."""
    return spec.name


def parse_endpoint(endpoint: str) -> tuple[str, int]:
    """`host:port` or `[v6addr]:port` -> (host, port); the port defaults to 29500."""
    text = endpoint.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port_text = rest.removeprefix(":")
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    else:
        host, port_text = text, ""
    if not host:
        raise ValueError(f"launch.rdzv_endpoint: expected host:port, got {endpoint!r}")
    try:
        port = int(port_text) if port_text else DEFAULT_PORT
    except ValueError:
        raise ValueError(f"launch.rdzv_endpoint: port must be a number, got {endpoint!r}") from None
    if not 0 < port < 65536:
        raise ValueError(f"launch.rdzv_endpoint: port {port} is out of range 1-65535")
    return host, port


def node_env(spec: RunSpec) -> dict[str, str]:
    env = {"HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
    if spec.launch.gpus is not None:
        env["CUDA_VISIBLE_DEVICES"] = ",".join(str(g) for g in spec.launch.gpus)
    return env


def node_commands(
    spec: RunSpec,
    config_path: str,
    nnodes: int,
    rdzv_endpoint: str | None,
    rdzv_id: str | None = None,
    *,
    nproc_per_node: int | None = None,
    python: str | None = None,
) -> list[NodeCommand]:
    """The exact command for every node, rank 0 first. One node: the --standalone form."""
    if nnodes < 1:
        raise ValueError(f"launch.nnodes: expected at least 1, got {nnodes}")
    endpoint = rdzv_endpoint or spec.launch.rdzv_endpoint
    if nnodes > 1 and not endpoint:
        raise ValueError("launch.rdzv_endpoint: multi-node needs host:port of node 0")
    if endpoint:
        host, port = parse_endpoint(endpoint)
        endpoint = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    nproc = nproc_per_node or resolve_nproc(spec)
    shaped = spec.model_copy(deep=True)
    shaped.launch.nnodes = nnodes
    shaped.launch.rdzv_endpoint = endpoint
    run_id = rdzv_id or default_rdzv_id(shaped)
    hints = [NCCL_HINT, OFFLINE_HINT] if nnodes > 1 else [OFFLINE_HINT]
    out = []
    for rank in range(nnodes):
        argv = torchrun_argv(
            shaped,
            config_path,
            nproc_per_node=nproc,
            node_rank=rank,
            rdzv_endpoint=endpoint,
            rdzv_id=run_id,
            python=python,
        )
        out.append(NodeCommand(rank, argv, node_env(spec), list(hints), endpoint))
    return out


def check_rendezvous(endpoint: str, timeout: float = 5.0, hosting: bool = False) -> str | None:
    """None when this node can use `endpoint`, else one line saying what is wrong and what to
    do. Other nodes connect to it (hosting=False); node 0 must be able to listen on its port."""
    found = rendezvous_problem(endpoint, timeout, hosting)
    return found[0] if found else None


def rendezvous_problem(
    endpoint: str, timeout: float = 5.0, hosting: bool = False
) -> tuple[str, bool] | None:
    """(what is wrong, whether the run cannot start) or None. Only a bad address or a port
    node 0 cannot listen on is fatal: a node that finds nobody listening yet may well be
    starting before node 0, and torchrun waits for the rendezvous."""
    try:
        host, port = parse_endpoint(endpoint)
    except ValueError as exc:
        return str(exc), True
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        return (
            f"rendezvous {host}:{port}: this node cannot resolve {host!r}; use node 0's IP "
            "address or a name every node resolves"
        ), True
    if hosting:
        family, kind, proto, _, _ = infos[0]
        with socket.socket(family, kind, proto) as s:
            try:
                s.bind(("", port))
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    return (
                        f"rendezvous port {port} is already in use on this node (an earlier "
                        "run still alive?); stop it or pick another port"
                    ), True
                return f"rendezvous port {port}: cannot listen on it here ({exc.strerror})", True
        return None
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except ConnectionRefusedError:
        return (
            f"rendezvous {host}:{port}: nothing listens there yet; start node 0 first (its "
            "torchrun hosts the rendezvous) and check that this port is open between nodes"
        ), False
    except TimeoutError:
        return (
            f"rendezvous {host}:{port}: no answer within {timeout:g}s; a firewall drops the "
            "connection, or the address is not node 0's"
        ), False
    except OSError as exc:
        return f"rendezvous {host}:{port}: cannot connect ({exc.strerror or exc})", False


def slurm_script(
    spec: RunSpec,
    config_path: str,
    nnodes: int,
    gpus_per_node: int,
    *,
    port: int = DEFAULT_PORT,
    partition: str | None = None,
    time_limit: str | None = None,
    cpus_per_task: int | None = None,
    account: str | None = None,
    python: str = "python",
    script_path: str | None = None,
) -> str:
    """An sbatch script that runs `spec` on `nnodes` x `gpus_per_node` GPUs.

    The spec travels inside the script (a quoted heredoc, so nothing in it is expanded) and
    is written to `config_path` on the first node; that path must be on a file system every
    node sees. One torchrun per node (srun, ntasks-per-node=1); the first host of the job is
    the rendezvous host and the job id is the shared rendezvous id. `script_path` is where
    the script is written (its submit line names it); None when it is printed.
    """
    la = spec.launch
    job = spec.model_copy(deep=True)  # the config the ranks read describes this job
    job.launch.nnodes = nnodes
    job.launch.nproc_per_node = gpus_per_node
    job.launch.node_rank = 0
    job.launch.rdzv_endpoint = RDZV_PLACEHOLDER
    header = [
        "#!/bin/bash",
        f"# ftui: fine-tune {spec.name!r} on {nnodes} node(s) x {gpus_per_node} GPU(s).",
        f"# model {spec.model.name_or_path}, method {spec.method.kind}, data {spec.data.source}",
        f"# Submit with: sbatch {shlex.quote(script_path)}"
        if script_path
        else f"# Save as {spec.name}.sbatch (ftui command SPEC --slurm ... --out "
        f"{spec.name}.sbatch writes it), then submit with: sbatch {spec.name}.sbatch",
        f"#SBATCH --job-name={spec.name}",
        f"#SBATCH --nodes={nnodes}",
        "#SBATCH --ntasks-per-node=1",
        f"#SBATCH --gpus-per-node={gpus_per_node}",
        f"#SBATCH --cpus-per-task={cpus_per_task or 4 * gpus_per_node}",
        "#SBATCH --output=%x-%j.out",
    ]
    if partition:
        header.append(f"#SBATCH --partition={partition}")
    if account:
        header.append(f"#SBATCH --account={account}")
    if time_limit:
        header.append(f"#SBATCH --time={time_limit}")
    cuda = ""
    if la.gpus is not None:
        cuda = f"export CUDA_VISIBLE_DEVICES={shlex.quote(','.join(map(str, la.gpus)))}\n"
    launch = [
        python,
        "-m",
        "torch.distributed.run",
        f"--nnodes={nnodes}",
        f"--nproc-per-node={gpus_per_node}",
        "--rdzv-backend=c10d",
    ]
    worker = ["-m", "ftui.train"]
    body = f"""
set -euo pipefail

# No rank downloads anything: fetch the model once beforehand with
#   ftui download {shlex.quote(spec.model.name_or_path)}
# into an HF cache every node sees (HF_HOME on shared storage).
export HF_HUB_OFFLINE=1
export PYTHONUNBUFFERED=1
{cuda}# {NCCL_HINT}.
# export NCCL_SOCKET_IFNAME=ib0

head_node=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)
rdzv_port={port}

config={_shell_path(config_path)}
mkdir -p -m 700 "$(dirname "$config")"
cat > "$config" <<'FTUI_SPEC'
{job.to_yaml().rstrip()}
FTUI_SPEC
sed -i "s|{RDZV_PLACEHOLDER}|$head_node:$rdzv_port|" "$config"

echo "ftui: rendezvous at $head_node:$rdzv_port, id $SLURM_JOB_ID, config $config"

srun --kill-on-bad-exit=1 {" ".join(shlex.quote(a) for a in launch)} \\
    --rdzv-endpoint="$head_node:$rdzv_port" --rdzv-id="$SLURM_JOB_ID" \\
    {" ".join(worker)} "$config"
"""
    return "\n".join(header) + "\n" + body


def _shell_path(path: str) -> str:
    """Quote a path for the script, leaving $VARS (like $SLURM_SUBMIT_DIR) expandable."""
    if "$" in path:
        return '"' + path.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`") + '"'
    return shlex.quote(path)


def default_slurm_config_path(spec: RunSpec) -> str:
    """A fresh run dir per job under output.root, relative to where sbatch was run."""
    root = spec.output.root.rstrip("/") or "."
    base = root if root.startswith("/") else f"$SLURM_SUBMIT_DIR/{root}"
    return f"{base}/{spec.name}-slurm-$SLURM_JOB_ID/{IN_RUN.config}"


def launch_problems(spec: RunSpec, backend: str, timeout: float = 5.0) -> list[tuple[str, bool]]:
    """What may stop this node from starting its part of the run (for preflight), each as
    (a line naming the field, whether it is fatal): the sharding strategy on this hardware
    (HardwareReport.backend) and, with several nodes, the rendezvous endpoint (node 0 must be
    able to listen on it, the others to reach it)."""
    from ftui.core.launch.sharding import strategy_problem

    problems: list[tuple[str, bool]] = []
    strategy = strategy_problem(spec, backend)
    if strategy:
        problems.append((strategy, True))
    la = spec.launch
    if la.nnodes > 1:
        if backend == "mps":
            problems.append(
                ("launch.nnodes: multi-node runs need CUDA or ROCm GPUs, not MPS", True)
            )
        if not la.rdzv_endpoint:
            problems.append(("launch.rdzv_endpoint: multi-node needs host:port of node 0", True))
        else:
            found = rendezvous_problem(la.rdzv_endpoint, timeout, hosting=la.node_rank == 0)
            if found:
                problems.append((f"launch.rdzv_endpoint: {found[0]}", found[1]))
    return problems
