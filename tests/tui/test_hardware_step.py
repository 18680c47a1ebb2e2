"""The Hardware step against a fake NVML layer with 0, 1 and 8 GPUs."""

from __future__ import annotations

import pytest

from ftui.tui.screens.wizard.hardware import HardwareScreen
from ftui.tui.screens.wizard.method import MethodScreen
from ftui.tui.widgets.wizard.gpu_table import GpuTable

from .wizard_helpers import make_app, settle

pytest.importorskip("ftui.core.hardware")


async def test_no_gpu_shows_the_notice_and_keeps_the_spec() -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU: the torch fallback would find it")
    app = make_app(gpus=0, preset="demo", step="hardware")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, HardwareScreen)
        report = app.hardware.value
        assert report is not None and report.gpus == []
        notice = str(app.screen.query_one("#hw-notice").render())
        assert "No GPU found" in notice
        assert not app.screen.query_one(GpuTable).display
        assert app.draft.get("launch.gpus") is None
        assert app.draft.get("launch.nproc_per_node") == 2  # the preset's CPU processes
        # QLoRA is offered only with CUDA and bitsandbytes
        app.open_step("method")
        await settle(pilot)
        assert isinstance(app.screen, MethodScreen)
        assert app.screen.query_one("#kind-qlora").disabled
        assert "CUDA" in str(app.screen.query_one("#quant-reason").render())


async def test_one_gpu_is_listed_and_chosen() -> None:
    app = make_app(gpus=1, preset="demo", step="hardware")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(GpuTable)
        assert table.row_count == 1
        assert "H100" in str(table.get_row_at(0)[2])
        assert app.draft.get("launch.gpus") == [0]
        assert app.draft.get("launch.nproc_per_node") == 1


async def test_eight_gpus_default_to_the_idle_ones_and_toggle_with_space() -> None:
    app = make_app(gpus=8, preset="demo", step="hardware")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(GpuTable)
        assert table.row_count == 8
        assert app.draft.get("launch.gpus") == [0, 2, 3, 4, 5, 6, 7]  # GPU 1 is busy
        assert app.draft.get("launch.nproc_per_node") == 7
        table.focus()
        await pilot.press("space")  # the cursor is on GPU 0
        await pilot.pause()
        assert app.draft.get("launch.gpus") == [2, 3, 4, 5, 6, 7]
        assert app.spec is not None and app.spec.launch.nproc_per_node == 6
        await pilot.press("down", "space")  # GPU 1 back in
        await pilot.pause()
        assert app.draft.get("launch.gpus") == [1, 2, 3, 4, 5, 6, 7]
        app.open_step("review")
        await settle(pilot)
        command = str(app.screen.query_one("#command").render())
        assert "CUDA_VISIBLE_DEVICES=1,2,3,4,5,6,7" in command
        assert "--nproc-per-node=7" in command


async def test_choosing_no_gpu_marks_the_hardware_step() -> None:
    app = make_app(gpus=1, preset="demo", step="hardware")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        app.screen.query_one(GpuTable).focus()
        await pilot.press("space")
        await pilot.pause()
        assert app.spec is None
        assert "hardware" in app.validation.invalid_steps()
