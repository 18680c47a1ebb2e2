"""What accelerators this machine has: NVML first, then torch (ROCm, Apple MPS), then CPU.

`detect_hardware()` is the one-off full report for the Hardware step and `ftui gpus`;
`sample_gpus()` is the cheap poll (NVML or amdsmi only) the monitor calls every second.
torch is imported only inside the fallbacks, never at module import, and the fallbacks never
create a CUDA context in the calling process (that would pin ~500 MB on every GPU).
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from ftui.core.demo import DEMO_PARAMS
from ftui.core.units import human_count

Backend = Literal["nvml", "torch-cuda", "rocm", "mps", "cpu"]

CPU_NOTICE = (
    "No GPU found: training runs on the CPU, which is only practical for demo-size models "
    f"(builtin:demo-tiny-llama, {human_count(DEMO_PARAMS)} parameters). "
    "QLoRA and 8-bit need a CUDA GPU."
)
MPS_NOTICE = (
    "Apple MPS: one device, one process (no multi-GPU torchrun, FSDP or DeepSpeed); "
    "no bitsandbytes, so no QLoRA or 8-bit; bf16 needs macOS 14 or newer."
)
ROCM_NOTICE = (
    "AMD ROCm: QLoRA and 8-bit need a ROCm build of bitsandbytes; "
    "flash_attention_2 needs the ROCm build of flash-attn (sdpa is used otherwise)."
)
TORCH_CUDA_NOTICE = (
    "NVML is not available (nvidia-ml-py or the driver library is missing): showing torch's "
    "view, without free memory, utilisation or temperature."
)


@dataclass
class GpuInfo:
    index: int
    name: str
    vendor: Literal["nvidia", "amd", "apple"]
    memory_total: int
    memory_used: int
    memory_free: int
    utilization: int | None = None
    temperature: int | None = None
    power_w: float | None = None
    power_limit_w: float | None = None
    driver: str = ""
    cuda: str | None = None
    processes: int = 0


@dataclass
class HardwareReport:
    backend: Backend
    gpus: list[GpuInfo] = field(default_factory=list)
    notice: str = ""
    cpu_count: int = 1
    ram_total: int = 0
    ram_available: int = 0
    bf16_supported: bool = False
    bitsandbytes: bool = False
    cpu_bf16: bool = False
    """The CPU has native bf16 matmuls (`CPU_BF16_FLAGS`): where model.dtype auto trains a
    CPU run in bf16."""


def _try(fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except Exception:
        return None


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _load_nvml(nvml: Any) -> Any:
    if nvml is not None:
        return nvml
    try:
        import pynvml
    except ImportError:
        return None
    return pynvml


def _nvml_gpus(nvml: Any) -> tuple[list[GpuInfo], bool] | None:
    """(gpus, every GPU supports bf16), or None when NVML cannot start."""
    try:
        nvml.nvmlInit()
    except Exception:
        return None
    try:
        driver = _text(_try(nvml.nvmlSystemGetDriverVersion) or "")
        cuda_int = _try(nvml.nvmlSystemGetCudaDriverVersion)
        cuda = f"{cuda_int // 1000}.{cuda_int % 1000 // 10}" if cuda_int else None
        gpus: list[GpuInfo] = []
        bf16 = True
        for i in range(int(nvml.nvmlDeviceGetCount())):
            try:
                h = nvml.nvmlDeviceGetHandleByIndex(i)
                mem = nvml.nvmlDeviceGetMemoryInfo(h)
            except Exception:  # a GPU that fell off the bus: list the others
                continue
            util = _try(nvml.nvmlDeviceGetUtilizationRates, h)
            temp = _try(nvml.nvmlDeviceGetTemperature, h, getattr(nvml, "NVML_TEMPERATURE_GPU", 0))
            power = _try(nvml.nvmlDeviceGetPowerUsage, h)
            limit = _try(nvml.nvmlDeviceGetEnforcedPowerManagementLimit, h)
            procs = _try(nvml.nvmlDeviceGetComputeRunningProcesses, h)
            cc = _try(nvml.nvmlDeviceGetCudaComputeCapability, h)
            bf16 = bf16 and bool(cc) and int(cc[0]) >= 8
            gpus.append(
                GpuInfo(
                    index=i,
                    name=_text(nvml.nvmlDeviceGetName(h)),
                    vendor="nvidia",
                    memory_total=int(mem.total),
                    memory_used=int(mem.used),
                    memory_free=int(mem.free),
                    utilization=int(util.gpu) if util is not None else None,
                    temperature=int(temp) if temp is not None else None,
                    power_w=power / 1000.0 if power is not None else None,
                    power_limit_w=limit / 1000.0 if limit is not None else None,
                    driver=driver,
                    cuda=cuda,
                    processes=len(procs) if procs is not None else 0,
                )
            )
        return gpus, bf16 and bool(gpus)
    except Exception:
        return None
    finally:
        _try(nvml.nvmlShutdown)


def _amdsmi_gpus() -> list[GpuInfo] | None:
    """AMD GPUs through amdsmi when installed; field names vary between releases, so each read
    is guarded and a missing value stays None."""
    if importlib.util.find_spec("amdsmi") is None:
        return None
    try:
        import amdsmi

        amdsmi.amdsmi_init()
    except Exception:
        return None
    try:
        driver = _try(amdsmi.amdsmi_get_gpu_driver_info, None) or {}
        gpus = []
        for i, h in enumerate(amdsmi.amdsmi_get_processor_handles()):
            vram = _try(amdsmi.amdsmi_get_gpu_vram_usage, h) or {}
            total = int(vram.get("vram_total", 0)) * 1024**2
            used = int(vram.get("vram_used", 0)) * 1024**2
            asic = _try(amdsmi.amdsmi_get_gpu_asic_info, h) or {}
            activity = _try(amdsmi.amdsmi_get_gpu_activity, h) or {}
            power = _try(amdsmi.amdsmi_get_power_info, h) or {}
            gpus.append(
                GpuInfo(
                    index=i,
                    name=str(asic.get("market_name", "AMD GPU")),
                    vendor="amd",
                    memory_total=total,
                    memory_used=used,
                    memory_free=max(0, total - used),
                    utilization=activity.get("gfx_activity"),
                    power_w=power.get("average_socket_power"),
                    power_limit_w=power.get("power_limit"),
                    driver=str(driver.get("driver_version", "")) if driver else "",
                )
            )
        return gpus
    except Exception:
        return None
    finally:
        _try(amdsmi.amdsmi_shut_down)


def _torch_report(report: HardwareReport) -> HardwareReport:
    """CUDA without NVML, ROCm, or MPS, through torch. Reads device properties only."""
    import torch

    if torch.cuda.is_available():
        rocm = getattr(torch.version, "hip", None) is not None
        amd = _amdsmi_gpus() if rocm else None
        gpus = amd or []
        if not gpus:
            for i in range(torch.cuda.device_count()):
                props = torch.cuda.get_device_properties(i)
                gpus.append(
                    GpuInfo(
                        index=i,
                        name=props.name,
                        vendor="amd" if rocm else "nvidia",
                        memory_total=int(props.total_memory),
                        memory_used=0,
                        memory_free=int(props.total_memory),
                        driver=str(torch.version.hip if rocm else ""),
                        cuda=None if rocm else torch.version.cuda,
                    )
                )
        report.backend = "rocm" if rocm else "torch-cuda"
        report.gpus = gpus
        report.notice = ROCM_NOTICE if rocm else TORCH_CUDA_NOTICE
        report.bf16_supported = bool(_try(torch.cuda.is_bf16_supported))
        report.bitsandbytes = _has_bitsandbytes()
        return report
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        total = report.ram_total
        report.backend = "mps"
        report.gpus = [GpuInfo(0, "Apple GPU (MPS)", "apple", total, 0, report.ram_available)]
        report.notice = MPS_NOTICE
        bf16 = _try(lambda: torch.ones(1, dtype=torch.bfloat16, device="mps"))
        report.bf16_supported = bf16 is not None
    return report


def _has_bitsandbytes() -> bool:
    return importlib.util.find_spec("bitsandbytes") is not None


def detect_hardware(nvml: Any = None) -> HardwareReport:
    """The full report. `nvml` injects a module with pynvml's functions (tests)."""
    ram_total, ram_available = _meminfo()
    report = HardwareReport(
        backend="cpu",
        notice=CPU_NOTICE,
        cpu_count=_cpu_count(),
        ram_total=ram_total,
        ram_available=ram_available,
        cpu_bf16=cpu_has_bf16(),
    )
    module = _load_nvml(nvml)
    found = _nvml_gpus(module) if module is not None else None
    if found is not None and found[0]:
        report.backend = "nvml"
        report.gpus, report.bf16_supported = found
        report.bitsandbytes = _has_bitsandbytes()
        notes = []
        if not report.bf16_supported:
            notes.append(
                "bf16 needs compute capability 8.0 (Ampere) or newer: these GPUs train in fp16."
            )
        visible = os.environ.get("CUDA_VISIBLE_DEVICES")
        if visible is not None:
            notes.append(
                f"CUDA_VISIBLE_DEVICES={visible} is set here; the indices shown are the "
                "physical (nvidia-smi) ones, and launch.gpus replaces it for the run."
            )
        report.notice = " ".join(notes)
        return report
    try:
        return _torch_report(report)
    except ImportError:
        return report


def sample_gpus(nvml: Any = None) -> list[GpuInfo]:
    """Current memory/utilisation/temperature per GPU; [] when neither NVML nor amdsmi works."""
    module = _load_nvml(nvml)
    found = _nvml_gpus(module) if module is not None else None
    if found is not None:
        return found[0]
    return _amdsmi_gpus() or []


def idle_gpus(report: HardwareReport) -> list[int]:
    """GPUs nobody is using: no compute process, under 10% busy and under 10% memory used."""
    out = []
    for g in report.gpus:
        busy = g.utilization is not None and g.utilization >= 10
        full = g.memory_total > 0 and g.memory_used > 0.1 * g.memory_total
        if g.processes == 0 and not busy and not full:
            out.append(g.index)
    return out


def _cpu_count() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _meminfo() -> tuple[int, int]:
    """(total, available) bytes from /proc/meminfo; sysconf where there is no /proc."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            values = {k: int(v.split()[0]) * 1024 for k, v in (ln.split(":", 1) for ln in f)}
        return values["MemTotal"], values.get("MemAvailable", values.get("MemFree", 0))
    except (OSError, KeyError, ValueError):
        total = _try(lambda: os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")) or 0
        return int(total), 0


# x86 flags of native bf16 matmuls (AVX512-BF16 dot products, AMX tiles): oneDNN runs bf16
# autocast faster than fp32 there; elsewhere torch emulates bf16, slower than fp32.
CPU_BF16_FLAGS = ("avx512_bf16", "amx_bf16")


def cpu_flags(cpuinfo: str = "/proc/cpuinfo") -> set[str]:
    """The first CPU's feature flags from /proc/cpuinfo (empty where there is none)."""
    try:
        with open(cpuinfo, encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith(("flags", "Features")) and ":" in line:
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def cpu_has_bf16(flags: set[str] | None = None) -> bool:
    """Whether this CPU has native bf16 matmuls (`CPU_BF16_FLAGS`)."""
    return bool(set(CPU_BF16_FLAGS) & (cpu_flags() if flags is None else flags))


_last_cpu: tuple[int, int] | None = None


def _cpu_times() -> tuple[int, int] | None:
    """(busy, total) jiffies from the first line of /proc/stat."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            parts = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = parts[3] + (parts[4] if len(parts) > 4 else 0)
    return sum(parts) - idle, sum(parts)


def cpu_ram_sample() -> tuple[float | None, int, int]:
    """(cpu percent since the previous call, ram used, ram total). The first call measures
    over 50 ms. cpu percent is None where there is no /proc (macOS)."""
    global _last_cpu
    now = _cpu_times()
    if now is not None and _last_cpu is None:
        _last_cpu = now
        time.sleep(0.05)
        now = _cpu_times()
    percent = None
    if now is not None and _last_cpu is not None:
        busy, total = now[0] - _last_cpu[0], now[1] - _last_cpu[1]
        percent = 100.0 * busy / total if total > 0 else 0.0
        _last_cpu = now
    total_ram, available = _meminfo()
    return percent, max(0, total_ram - available), total_ram


def training_dtype(want: str, cuda: bool, bf16_supported: bool, cpu_bf16: bool = False) -> str:
    """The precision a run trains in for model.dtype `want`. On CUDA auto is bf16 where the
    GPUs have it, else fp16. On the CPU bf16 is bf16 autocast (any CPU runs it; fast with
    `CPU_BF16_FLAGS`), fp16 is fp32, and auto is bf16 where `cpu_bf16` says the CPU has native
    bf16 matmuls, else fp32."""
    if not cuda:
        if want == "bf16" or (want == "auto" and cpu_bf16):
            return "bf16"
        return "fp32"
    if want == "auto":
        return "bf16" if bf16_supported else "fp16"
    return want


def bf16_trains_fast(report: HardwareReport) -> bool:
    """Whether bf16 is native where this machine trains: its CUDA GPUs, or, on a machine
    without one, its CPU (`CPU_BF16_FLAGS`; other CPUs run bf16 emulated, slower than fp32)."""
    if report.backend in ("nvml", "torch-cuda") and report.gpus:
        return report.bf16_supported
    return report.cpu_bf16


def training_dtype_on(want: str, report: HardwareReport | None) -> str:
    """`training_dtype` on the machine a detection report describes (the wizard's view; the
    worker asks torch and /proc/cpuinfo directly)."""
    cuda = report is not None and report.backend in ("nvml", "torch-cuda") and bool(report.gpus)
    return training_dtype(
        want, cuda, bool(report and report.bf16_supported), bool(report and report.cpu_bf16)
    )


if __name__ == "__main__":  # python -m ftui.core.hardware
    from ftui.core.units import human_bytes

    r = detect_hardware()
    print(f"backend={r.backend} cpus={r.cpu_count} ram={human_bytes(r.ram_total)}", file=sys.stdout)
    for g in r.gpus:
        print(
            f"  [{g.index}] {g.name}: {human_bytes(g.memory_free)} free of {human_bytes(g.memory_total)}"
        )
    if r.notice:
        print(r.notice)
