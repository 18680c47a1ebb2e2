"""Hardware: the GPUs this machine has; which ones to use sets launch.gpus and nproc_per_node."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.widgets import LoadingIndicator, Static

from ftui.core.units import human_bytes
from ftui.tui.messages import SpecChanged
from ftui.tui.screens.wizard.base import StepScreen
from ftui.tui.widgets.wizard.gpu_table import GpuTable
from ftui.tui.widgets.wizard.spec_form import FieldRow, SpecForm, row_id
from ftui.tui.workers import Loaded

LAUNCH_FIELDS = [
    "launch.nproc_per_node",
    "launch.strategy",
    "launch.nnodes",
    "launch.node_rank",
    "launch.rdzv_endpoint",
]


class HardwareScreen(StepScreen):
    STEP_ID = "hardware"
    INTRO = "Choose the GPUs to train on (space toggles; idle GPUs are chosen by default)."

    def compose_body(self) -> ComposeResult:
        yield LoadingIndicator(id="hw-loading")
        yield Static("", id="hw-summary", classes="note")
        yield GpuTable(id="gpu-table")
        yield Static("", id="hw-notice", classes="notice")
        yield Static("Launch", classes="section-title")
        yield SpecForm(LAUNCH_FIELDS, self.values(LAUNCH_FIELDS))

    def on_mount(self) -> None:
        self.watch(self.app, "hardware", self._hardware_changed)

    def _hardware_changed(self, hardware: Loaded) -> None:
        self.query_one("#hw-loading").display = hardware.loading
        report, table = hardware.value, self.query_one(GpuTable)
        summary = self.query_one("#hw-summary", Static)
        notice = self.query_one("#hw-notice", Static)
        if hardware.loading:
            summary.update("Looking for accelerators…")
            table.display = False
            return
        if report is None:
            summary.update(f"Hardware detection is not available: {hardware.error}")
            table.display = False
            return
        summary.update(
            f"backend {report.backend} · {len(report.gpus)} GPU(s) · {report.cpu_count} CPUs · "
            f"RAM {human_bytes(report.ram_available, unit='GiB')} free of "
            f"{human_bytes(report.ram_total, unit='GiB')} · "
            f"bf16 {'yes' if report.bf16_supported else 'no'} · "
            f"bitsandbytes {'yes' if report.bitsandbytes else 'no'}"
        )
        notice.update(report.notice)
        notice.display = bool(report.notice)
        table.display = bool(report.gpus)
        chosen = self.value("launch.gpus")
        all_gpus = {g.index for g in report.gpus}
        table.show(report.gpus, all_gpus if chosen is None else set(chosen) & all_gpus)

    @on(GpuTable.SelectionChanged)
    def _selection_changed(self, event: GpuTable.SelectionChanged) -> None:
        event.stop()
        count = len(event.indices)
        self.post_message(
            SpecChanged({"launch.gpus": event.indices, "launch.nproc_per_node": count})
        )
        self.query_one(f"#{row_id('launch.nproc_per_node')}", FieldRow).set_value(count)
