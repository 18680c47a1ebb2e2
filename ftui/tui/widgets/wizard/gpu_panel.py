"""Per-GPU utilisation, memory, temperature and power; CPU and RAM when there is no GPU.

Sampling (ftui.core.hardware: NVML, /proc) runs in a thread worker every few seconds; the widget only renders.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import work
from textual.message import Message
from textual.widgets import Static

from ftui.core.units import GiB


@dataclass(frozen=True)
class HostSample:
    gpus: list[Any]  # objects with index, name, memory_used, memory_total, utilization, ...
    cpu_percent: float | None
    ram_used: int | None
    ram_total: int | None


def sample_host() -> HostSample:
    """GPUs through NVML (none when there is no NVML) and always CPU and RAM."""
    from ftui.core.hardware import cpu_ram_sample, sample_gpus

    try:
        gpus = list(sample_gpus())
    except Exception:  # a failing driver must not take the monitor down: show the host
        gpus = []
    return HostSample(gpus, *cpu_ram_sample())


def _bar(fraction: float | None, width: int = 8) -> str:
    if fraction is None:
        return "·" * width
    filled = round(max(0.0, min(1.0, fraction)) * width)
    return "█" * filled + "░" * (width - filled)


def _num(value: Any, fmt: str, unit: str) -> str:
    return f"{value:{fmt}}{unit}" if isinstance(value, (int, float)) else "-"


def render_sample(sample: HostSample) -> Text:
    text = Text()
    for gpu in sample.gpus:
        used, total = getattr(gpu, "memory_used", None), getattr(gpu, "memory_total", None)
        util = getattr(gpu, "utilization", None)
        mem_frac = used / total if used is not None and total else None
        text.append(f"GPU{gpu.index} ", style="bold")
        text.append(f"{str(gpu.name)[:22]}\n", style="dim")
        text.append(f"util {_bar(util / 100 if util is not None else None)} ")
        text.append(f"{_num(util, '.0f', '%')}\n")
        text.append(f"mem  {_bar(mem_frac)} ")
        text.append(f"{_num(used / GiB if used else None, '.1f', '')}/")
        text.append(f"{_num(total / GiB if total else None, '.1f', ' GiB')}\n")
        text.append(f"     {_num(getattr(gpu, 'temperature', None), '.0f', '°C')}  ")
        text.append(f"{_num(getattr(gpu, 'power_w', None), '.0f', ' W')}\n")
    if not sample.gpus:
        text.append("no GPU: host\n", style="dim")
    cpu = sample.cpu_percent
    ram = sample.ram_used / sample.ram_total if sample.ram_used and sample.ram_total else None
    text.append(f"CPU  {_bar(cpu / 100 if cpu is not None else None)} {_num(cpu, '.0f', '%')}\n")
    text.append(f"RAM  {_bar(ram)} ")
    text.append(f"{_num(sample.ram_used / GiB if sample.ram_used else None, '.1f', '')}/")
    text.append(f"{_num(sample.ram_total / GiB if sample.ram_total else None, '.1f', ' GiB')}")
    return text


class GpuPanel(Static):
    """Shows the latest host sample; `sampler` is swappable (tests pass a fixed one)."""

    class Sampled(Message):
        def __init__(self, sample: HostSample) -> None:
            super().__init__()
            self.sample = sample

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, GpuPanel.Sampled)

    def __init__(
        self,
        sampler: Callable[[], HostSample] | None = None,
        interval_s: float = 2.0,
        *,
        id: str | None = None,
    ) -> None:
        super().__init__("sampling…", id=id)
        self.sampler = sampler or sample_host
        self.interval_s = interval_s
        self.sample: HostSample | None = None

    def on_mount(self) -> None:
        self.border_title = "hardware"
        self._sample()
        self.set_interval(self.interval_s, self._sample)

    @work(thread=True, exclusive=True, exit_on_error=False, group="gpu-sample")
    def _sample(self) -> None:
        self.post_message(self.Sampled(self.sampler()))

    def on_gpu_panel_sampled(self, message: GpuPanel.Sampled) -> None:
        message.stop()
        self.sample = message.sample
        self.update(render_sample(message.sample))
