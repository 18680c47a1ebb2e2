"""Multi-node commands, the rendezvous pre-check, the sbatch script, and a real two-agent
c10d rendezvous on localhost (CPU, gloo)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from ftui.core.launch.cluster import (
    check_rendezvous,
    default_rdzv_id,
    node_commands,
    parse_endpoint,
    slurm_script,
)
from ftui.core.spec import spec_from_dict

ROOT = Path(__file__).resolve().parents[2]
PY = "/opt/py"


def make_spec(**launch):
    return spec_from_dict({"name": "sft", "launch": {"gpus": [0, 1], **launch}})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_one_node_is_standalone():
    [cmd] = node_commands(make_spec(), "/runs/x/config.yaml", 1, None, python=PY)
    assert cmd.node_rank == 0
    assert cmd.argv == [
        PY,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc-per-node=2",
        "-m",
        "ftui.train",
        "/runs/x/config.yaml",
    ]
    assert cmd.env == {
        "HF_HUB_OFFLINE": "1",
        "PYTHONUNBUFFERED": "1",
        "CUDA_VISIBLE_DEVICES": "0,1",
    }


@pytest.mark.parametrize("nnodes", [2, 4])
def test_multi_node_argv_exact(nnodes):
    spec = make_spec()
    cmds = node_commands(spec, "/shared/c.yaml", nnodes, "node0:29400", "job-7", python=PY)
    assert [c.node_rank for c in cmds] == list(range(nnodes))
    for rank, cmd in enumerate(cmds):
        assert cmd.argv == [
            PY,
            "-m",
            "torch.distributed.run",
            f"--nnodes={nnodes}",
            f"--node-rank={rank}",
            "--nproc-per-node=2",
            "--rdzv-backend=c10d",
            "--rdzv-endpoint=node0:29400",
            "--rdzv-id=job-7",
            "-m",
            "ftui.train",
            "/shared/c.yaml",
        ]
        assert "MASTER_ADDR" not in cmd.env and cmd.env["HF_HUB_OFFLINE"] == "1"
        assert any("NCCL_SOCKET_IFNAME" in h for h in cmd.hints)
    assert (
        cmds[1]
        .display()
        .startswith("HF_HUB_OFFLINE=1 PYTHONUNBUFFERED=1 CUDA_VISIBLE_DEVICES=0,1 /opt/py -m")
    )


def test_rdzv_id_shared_with_the_launcher():
    """`ftui command` and `ftui run` on each node (torchrun_argv) must join one rendezvous."""
    from ftui.core.launch.torchrun import torchrun_argv

    a = node_commands(make_spec(), "c.yaml", 2, "h:1234")
    spec = make_spec(node_rank=1, nnodes=2, rdzv_endpoint="h:1234")
    b = node_commands(spec, "c.yaml", 2, None)
    launcher = torchrun_argv(spec, "c.yaml", nproc_per_node=2)
    ids = {arg for argv in [c.argv for c in a + b] + [launcher] for arg in argv if "rdzv-id" in arg}
    assert ids == {"--rdzv-id=sft"}
    assert default_rdzv_id(spec) == "sft"


def test_multi_node_needs_endpoint_and_ipv6():
    with pytest.raises(ValueError, match="rdzv_endpoint"):
        node_commands(make_spec(), "c.yaml", 2, None)
    assert parse_endpoint("[fe80::1]:29400") == ("fe80::1", 29400)
    assert parse_endpoint("node0") == ("node0", 29500)
    cmds = node_commands(make_spec(), "c.yaml", 2, "[fe80::1]:29400", "j")
    assert "--rdzv-endpoint=[fe80::1]:29400" in cmds[0].argv
    with pytest.raises(ValueError, match="port"):
        parse_endpoint("node0:http")


def test_check_rendezvous():
    port = free_port()
    assert "nothing listens" in check_rendezvous(f"127.0.0.1:{port}", timeout=2)
    assert check_rendezvous(f"127.0.0.1:{port}", hosting=True) is None
    with socket.socket() as server:
        server.bind(("0.0.0.0", 0))
        server.listen()
        busy = server.getsockname()[1]
        assert check_rendezvous(f"127.0.0.1:{busy}", timeout=2) is None
        assert "already in use" in check_rendezvous(f"127.0.0.1:{busy}", hosting=True)
    assert "cannot resolve" in check_rendezvous("no-such-host.invalid:29500", timeout=2)
    assert "expected host:port" in check_rendezvous(":29500")


def test_slurm_script_is_valid_bash_and_carries_the_spec(tmp_path):
    spec = spec_from_dict(
        {
            "name": "big-sft",
            "model": {"name_or_path": "Qwen/Qwen2.5-7B-Instruct"},
            "method": {"kind": "lora", "lora": {"r": 32}},
            "train": {"learning_rate": 5e-5, "per_device_batch_size": 2},
            "launch": {"strategy": "fsdp"},
        }
    )
    text = slurm_script(
        spec, "$SLURM_SUBMIT_DIR/runs/big/config.yaml", 4, 8, partition="gpu", time_limit="12:00:00"
    )
    script = tmp_path / "job.sbatch"
    script.write_text(text)
    subprocess.run(["bash", "-n", str(script)], check=True)
    for line in (
        "#SBATCH --nodes=4",
        "#SBATCH --ntasks-per-node=1",
        "#SBATCH --gpus-per-node=8",
        "#SBATCH --partition=gpu",
        "#SBATCH --time=12:00:00",
        'head_node=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)',
        "--rdzv-backend=c10d",
        '--rdzv-endpoint="$head_node:$rdzv_port" --rdzv-id="$SLURM_JOB_ID"',
        "  name_or_path: Qwen/Qwen2.5-7B-Instruct",
        "    r: 32",
        "  learning_rate: 5.0e-05",
        "  strategy: fsdp",
        "  nnodes: 4",
        "  nproc_per_node: 8",
    ):
        assert line in text, line
    assert "srun --kill-on-bad-exit=1 python -m torch.distributed.run --nnodes=4" in text


def test_slurm_script_writes_the_spec_it_carries(tmp_path):
    """Run the script's config-writing part with stand-ins for Slurm: the YAML it writes loads
    back as the same spec, with the first node's endpoint filled in."""
    spec = spec_from_dict({"name": "s", "template": {"system_prompt": "Use $HOME and `ls`"}})
    text = slurm_script(spec, str(tmp_path / "run" / "config.yaml"), 2, 1)
    prefix = text.split("\necho ")[0]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "scontrol"
    fake.write_text("#!/bin/sh\nprintf 'gpu-a\\ngpu-b\\n'\n")
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "SLURM_JOB_NODELIST": "x"}
    subprocess.run(["bash", "-c", prefix], check=True, env=env)
    from ftui.core.spec import load_spec_file

    written = load_spec_file(tmp_path / "run" / "config.yaml")
    assert written.template.system_prompt == "Use $HOME and `ls`"
    assert written.launch.rdzv_endpoint == "gpu-a:29500"
    assert written.launch.nnodes == 2
    assert (tmp_path / "run").stat().st_mode & 0o777 == 0o700


@pytest.mark.slow
def test_two_nodes_rendezvous_on_localhost(tmp_path):
    """Two torchrun agents (as two 1-process nodes) meet through c10d on localhost and run a
    gloo all_reduce; the launcher part of the argv is exactly what node_commands gives."""
    port = free_port()
    cmds = node_commands(
        make_spec(), "unused", 2, f"localhost:{port}", "t1", nproc_per_node=1, python=sys.executable
    )
    script = str(ROOT / "tests" / "core" / "_allreduce_worker.py")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    env.pop("CUDA_VISIBLE_DEVICES", None)
    procs = []
    for cmd in cmds:
        launcher = cmd.argv[: cmd.argv.index("-m", 3)]
        log = open(tmp_path / f"node{cmd.node_rank}.log", "w")  # noqa: SIM115
        procs.append(
            subprocess.Popen(
                [*launcher, script, str(tmp_path)], env=env, stdout=log, stderr=subprocess.STDOUT
            )
        )
    try:
        codes = [p.wait(timeout=180) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    logs = "\n".join((tmp_path / f"node{i}.log").read_text() for i in range(2))
    assert codes == [0, 0], logs
    results = sorted((tmp_path / f"rank{r}.txt").read_text() for r in range(2))
    assert results == ["2 3 0", "2 3 1"]  # world 2, 1 + 2 summed, each node its group rank


def run_cli(*args, cwd):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "FTUI_HOME": str(cwd / "home")}
    return subprocess.run(
        [sys.executable, "-m", "ftui", "command", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
    )


def test_cli_prints_every_node_and_writes_only_an_asked_config(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text("name: cli\noutput: {root: out}\nlaunch: {gpus: [0, 1, 2, 3]}\n")
    proc = run_cli(str(spec), "--nnodes", "2", "--rdzv-endpoint", "n0:29400", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert not (tmp_path / "out").exists()  # printing a command creates no run dir
    lines = proc.stdout.splitlines()
    assert lines[0] == "# node 0 of 2 (hosts the rendezvous)"
    assert "--node-rank=0" in lines[1] and "--node-rank=1" in lines[3]
    planned = lines[1].rsplit(" ", 1)[1]  # the run dir a launch now would get, not created
    assert planned.startswith(str(tmp_path / "out" / "cli-")) and planned.endswith("config.yaml")
    assert f"not written: {planned}; add --config {planned}" in proc.stderr
    config = tmp_path / "out" / "mine" / "config.yaml"
    wrote = run_cli(
        str(spec),
        "--nnodes",
        "2",
        "--rdzv-endpoint",
        "n0:29400",
        "--config",
        str(config),
        cwd=tmp_path,
    )
    assert wrote.returncode == 0, wrote.stderr
    assert wrote.stdout.splitlines()[1].endswith(f"-m ftui.train {config}")
    assert config.parent.stat().st_mode & 0o777 == 0o700
    written = config.read_text()
    assert "nnodes: 2" in written and "rdzv_endpoint: n0:29400" in written
    only = run_cli(
        str(spec),
        "--nnodes",
        "2",
        "--rdzv-endpoint",
        "n0:1",
        "--node-rank",
        "1",
        "--config",
        str(tmp_path / "mine" / "config.yaml"),
        cwd=tmp_path,
    )
    assert "# node 1 of 2" in only.stdout and "--node-rank=0" not in only.stdout
    assert only.stdout.splitlines()[1].endswith(str(tmp_path / "mine" / "config.yaml"))


def test_cli_slurm_and_bad_spec(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text("name: cli\n")
    out = tmp_path / "job.sbatch"
    proc = run_cli(
        str(spec),
        "--slurm",
        "--nnodes",
        "2",
        "--gpus-per-node",
        "8",
        "--out",
        str(out),
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "#SBATCH --nodes=2" in out.read_text() and os.access(out, os.X_OK)
    assert f"# Submit with: sbatch {out}\n" in out.read_text()  # the file it was written to
    assert proc.stdout == "" and f"submit with: sbatch {out}" in proc.stderr
    printed = run_cli(str(spec), "--slurm", "--gpus-per-node", "8", cwd=tmp_path)
    assert printed.returncode == 0 and printed.stdout.startswith("#!/bin/bash\n")
    assert "--out cli.sbatch writes it), then submit with: sbatch cli.sbatch" in printed.stdout
    assert not (tmp_path / "runs").exists() and not (tmp_path / "cli.sbatch").exists()
    no_gpus = run_cli(str(spec), "--slurm", cwd=tmp_path)
    assert no_gpus.returncode == 2 and "--gpus-per-node" in no_gpus.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ntrain: {learning_rate: -1, bogus: 1}\n")
    proc = run_cli(str(bad), cwd=tmp_path)
    assert proc.returncode == 2
    assert "error: train.learning_rate: expected a positive number, got -1" in proc.stderr
    assert "unknown key" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_cli_node_rank_out_of_range(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text("name: cli\n")
    proc = run_cli(
        str(spec), "--nnodes", "2", "--rdzv-endpoint", "n0:1", "--node-rank", "2", cwd=tmp_path
    )
    assert proc.returncode == 2 and "--node-rank" in proc.stderr


def test_launch_problems():
    from ftui.core.launch.cluster import launch_problems

    port = free_port()
    assert launch_problems(make_spec(), "nvml") == []
    [(line, fatal)] = launch_problems(make_spec(strategy="fsdp"), "cpu")
    assert "needs GPUs" in line and fatal
    # node 1 before node 0 is up: torchrun waits for the rendezvous, so a warning only
    worker = make_spec(nnodes=2, node_rank=1, rdzv_endpoint=f"127.0.0.1:{port}")
    [(line, fatal)] = launch_problems(worker, "nvml", timeout=2)
    assert line.startswith("launch.rdzv_endpoint: rendezvous") and "node 0 first" in line
    assert not fatal
    host = make_spec(nnodes=2, node_rank=0, rdzv_endpoint=f"127.0.0.1:{port}")
    assert launch_problems(host, "nvml") == []
    unresolvable = make_spec(nnodes=2, node_rank=1, rdzv_endpoint="no-such-host.invalid:29500")
    [(line, fatal)] = launch_problems(unresolvable, "nvml", timeout=2)
    assert "cannot resolve 'no-such-host.invalid'" in line and fatal
    with socket.socket() as busy:  # node 0 whose rendezvous port is taken cannot start
        busy.bind(("", port))
        busy.listen()
        [(line, fatal)] = launch_problems(host, "nvml")
        assert "already in use" in line and fatal


def test_preflight_runs_the_rendezvous_check(tmp_path):
    from ftui.core.check.preflight import PreflightReport, check_launch

    port = free_port()
    report = PreflightReport()
    check_launch(make_spec(nnodes=2, node_rank=1, rdzv_endpoint=f"127.0.0.1:{port}"), report)
    assert report.errors == []
    assert report.warnings[0][0] == "launch.rdzv_endpoint"
    assert "nothing listens there yet" in report.warnings[0][1]
