"""A stand-in for pynvml with N GPUs, for the Hardware step without real GPUs.

Only the functions ftui.core.hardware calls; the values are fixed so snapshots are stable.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

NVML_TEMPERATURE_GPU = 0
GIB = 1024**3


class FakeNvml:
    """`FakeNvml(n)`: n H100-like GPUs; GPU 1 (when there are at least 2) is busy."""

    NVML_TEMPERATURE_GPU = 0

    def __init__(self, count: int, total_gib: int = 80, busy: tuple[int, ...] = (1,)) -> None:
        self.count = count
        self.total = total_gib * GIB
        self.busy = {i for i in busy if i < count and count > 1}

    def nvmlInit(self) -> None:
        pass

    def nvmlShutdown(self) -> None:
        pass

    def nvmlSystemGetDriverVersion(self) -> str:
        return "560.35.03"

    def nvmlSystemGetCudaDriverVersion(self) -> int:
        return 12060

    def nvmlDeviceGetCount(self) -> int:
        return self.count

    def nvmlDeviceGetHandleByIndex(self, i: int) -> int:
        if not 0 <= i < self.count:
            raise IndexError(i)
        return i

    def nvmlDeviceGetName(self, h: int) -> str:
        return "NVIDIA H100 80GB HBM3"

    def nvmlDeviceGetMemoryInfo(self, h: int) -> Any:
        used = (60 if h in self.busy else 1) * GIB // 2
        return SimpleNamespace(total=self.total, used=used, free=self.total - used)

    def nvmlDeviceGetUtilizationRates(self, h: int) -> Any:
        return SimpleNamespace(gpu=97 if h in self.busy else 0, memory=0)

    def nvmlDeviceGetTemperature(self, h: int, sensor: int) -> int:
        return 71 if h in self.busy else 34

    def nvmlDeviceGetPowerUsage(self, h: int) -> int:
        return 650_000 if h in self.busy else 70_000

    def nvmlDeviceGetEnforcedPowerManagementLimit(self, h: int) -> int:
        return 700_000

    def nvmlDeviceGetComputeRunningProcesses(self, h: int) -> list[Any]:
        return [SimpleNamespace(pid=4242)] if h in self.busy else []

    def nvmlDeviceGetCudaComputeCapability(self, h: int) -> tuple[int, int]:
        return (9, 0)
