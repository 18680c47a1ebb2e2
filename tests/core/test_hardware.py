"""GPU detection against a fake NVML layer (0, 1, 8 GPUs) and the real CPU-only path."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from ftui.core.hardware import (
    CPU_NOTICE,
    cpu_ram_sample,
    detect_hardware,
    idle_gpus,
    sample_gpus,
)

GiB = 1024**3


class FakeNVMLError(Exception):
    pass


class FakeNVML:
    """The subset of pynvml that ftui calls, over a list of GPU dicts."""

    NVML_TEMPERATURE_GPU = 0

    def __init__(self, gpus: list[dict], fail_init: bool = False, cc=(8, 0)):
        self.gpus, self.fail_init, self.cc = gpus, fail_init, cc
        self.initialised = 0

    def nvmlInit(self):
        if self.fail_init:
            raise FakeNVMLError("NVML Shared Library Not Found")
        self.initialised += 1

    def nvmlShutdown(self):
        self.initialised -= 1

    def nvmlSystemGetDriverVersion(self):
        return "550.54.15"

    def nvmlSystemGetCudaDriverVersion(self):
        return 12040

    def nvmlDeviceGetCount(self):
        return len(self.gpus)

    def nvmlDeviceGetHandleByIndex(self, i):
        return self.gpus[i]

    def nvmlDeviceGetName(self, h):
        return h["name"].encode()  # old pynvml returns bytes

    def nvmlDeviceGetMemoryInfo(self, h):
        return SimpleNamespace(total=h["total"], used=h["used"], free=h["total"] - h["used"])

    def nvmlDeviceGetUtilizationRates(self, h):
        return SimpleNamespace(gpu=h["util"], memory=0)

    def nvmlDeviceGetTemperature(self, h, kind):
        return h["temp"]

    def nvmlDeviceGetPowerUsage(self, h):
        return 71_500

    def nvmlDeviceGetEnforcedPowerManagementLimit(self, h):
        raise FakeNVMLError("Not Supported")  # a missing reading must stay None

    def nvmlDeviceGetComputeRunningProcesses(self, h):
        return [object()] * h["procs"]

    def nvmlDeviceGetCudaComputeCapability(self, h):
        return self.cc


def gpu(name="NVIDIA A100-SXM4-80GB", total=80 * GiB, used=GiB // 2, util=0, temp=35, procs=0):
    return dict(name=name, total=total, used=used, util=util, temp=temp, procs=procs)


def test_one_gpu_every_field(monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    fake = FakeNVML([gpu()])
    r = detect_hardware(nvml=fake)
    assert r.backend == "nvml"
    assert len(r.gpus) == 1
    g = r.gpus[0]
    assert (g.index, g.name, g.vendor) == (0, "NVIDIA A100-SXM4-80GB", "nvidia")
    assert (g.memory_total, g.memory_used, g.memory_free) == (
        80 * GiB,
        GiB // 2,
        80 * GiB - GiB // 2,
    )
    assert (g.utilization, g.temperature, g.power_w) == (0, 35, 71.5)
    assert g.power_limit_w is None
    assert (g.driver, g.cuda, g.processes) == ("550.54.15", "12.4", 0)
    assert r.bf16_supported is True
    assert r.notice == ""
    assert fake.initialised == 0, "nvmlShutdown must follow every nvmlInit"
    assert idle_gpus(r) == [0]


def test_eight_gpus_idle_selection():
    specs = [gpu(name=f"NVIDIA H100 80GB HBM3 #{i}") for i in range(8)]
    specs[2] = gpu(util=97, used=70 * GiB, procs=1)  # training job
    specs[5] = gpu(util=0, used=40 * GiB, procs=0)  # memory held by a dead-ish process
    specs[7] = gpu(util=0, used=GiB, procs=1)  # a compute process just started
    r = detect_hardware(nvml=FakeNVML(specs))
    assert [g.index for g in r.gpus] == list(range(8))
    assert r.gpus[3].name == "NVIDIA H100 80GB HBM3 #3"
    assert idle_gpus(r) == [0, 1, 3, 4, 6]


def test_old_gpus_no_bf16_notice():
    r = detect_hardware(nvml=FakeNVML([gpu(name="Tesla V100")], cc=(7, 0)))
    assert r.backend == "nvml"
    assert r.bf16_supported is False
    assert "fp16" in r.notice


def test_zero_gpus_falls_back_to_cpu():
    """NVML works but lists no GPU (a driver without devices): the torch fallback, here CPU."""
    r = detect_hardware(nvml=FakeNVML([]))
    assert r.backend == "cpu"
    assert r.gpus == []
    assert r.notice == CPU_NOTICE
    assert "demo-size" in r.notice
    assert idle_gpus(r) == []


def test_nvml_library_missing_is_cpu_path():
    r = detect_hardware(nvml=FakeNVML([gpu()], fail_init=True))
    assert r.backend == "cpu"
    assert r.bitsandbytes is False
    assert r.bf16_supported is False
    assert r.cpu_count >= 1
    assert r.ram_total > r.ram_available > 0


def test_real_machine_without_gpu():
    """The real pynvml here has no driver library: detection must still answer, as CPU."""
    r = detect_hardware()
    if r.backend != "cpu":
        pytest.skip(f"this machine has accelerators ({r.backend})")
    assert r.gpus == [] and "demo-size" in r.notice


def test_sample_gpus_polls_fake_and_empty():
    fake = FakeNVML([gpu(util=50), gpu(util=3)])
    assert [g.utilization for g in sample_gpus(nvml=fake)] == [50, 3]
    assert sample_gpus(nvml=FakeNVML([], fail_init=True)) == []


def test_cpu_ram_sample_from_proc():
    percent, used, total = cpu_ram_sample()
    assert total > used > 0
    assert percent is not None and 0.0 <= percent <= 100.0
    percent2, _, _ = cpu_ram_sample()
    assert percent2 is not None and 0.0 <= percent2 <= 100.0


def test_import_does_not_import_torch():
    code = "import sys, ftui.core.hardware; print('torch' in sys.modules)"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.strip() == "False"


def test_lost_gpu_is_skipped_and_visible_devices_noted(monkeypatch):
    class Lost(FakeNVML):
        def nvmlDeviceGetMemoryInfo(self, h):
            if h["name"] == "lost":
                raise FakeNVMLError("GPU is lost")
            return super().nvmlDeviceGetMemoryInfo(h)

    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1")
    r = detect_hardware(nvml=Lost([gpu(), gpu(name="lost"), gpu()]))
    assert [g.index for g in r.gpus] == [0, 2]
    assert "CUDA_VISIBLE_DEVICES=1" in r.notice
