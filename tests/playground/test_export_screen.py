"""The export screen under Pilot: a refused merge says why; an export runs in a worker."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from textual.app import App
from textual.screen import Screen
from textual.widgets import Button, Input, Static, Switch

import ftui.tui
from ftui.tui.screens.export import ExportScreen

SIZE = (120, 36)


class ExportApp(App):
    CSS_PATH = str(Path(ftui.tui.__file__).parent / "styles" / "playground.tcss")

    def __init__(self, run: Path) -> None:
        super().__init__()
        self.run_dir = run

    def get_default_screen(self) -> Screen:
        return ExportScreen(self.run_dir)


def quantized_run(tmp_path: Path) -> Path:
    run = tmp_path / "run-8bit"
    (run / "final").mkdir(parents=True)
    (run / "final" / "adapter_config.json").write_text('{"peft_type": "LORA"}')
    spec = {"name": "q", "model": {"name_or_path": "org/model", "quantization": "8bit"}}
    (run / "config.yaml").write_text(yaml.safe_dump(spec))
    return run


async def test_merge_into_an_8bit_base_is_refused_on_screen(tmp_path: Path) -> None:
    app = ExportApp(quantized_run(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert not screen.query_one("#export-go", Button).disabled  # the adapter alone is fine
        await pilot.click("#export-merge")
        await pilot.pause()
        check = str(screen.query_one("#export-check", Static).render())
        assert "8bit" in check and "reload the base in bf16" in check
        assert screen.query_one("#export-go", Button).disabled
        assert screen.query_one("#export-out", Input).value.endswith("export-merged")


@pytest.mark.slow
async def test_export_from_the_screen(demo: Path, tmp_path: Path) -> None:
    app = ExportApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        screen.query_one("#export-out", Input).value = str(tmp_path / "merged")
        screen.query_one("#export-merge", Switch).value = True
        await pilot.pause()
        await pilot.click("#export-go")
        await app.workers.wait_for_complete()
        await pilot.pause()
        result = str(screen.query_one("#export-result", Static).render())
        assert "exported merged model to" in result and "model.safetensors" in result
        assert (tmp_path / "merged" / "model.safetensors").is_file()
        app.save_screenshot(str(tmp_path / "export.svg"))


@pytest.mark.slow
async def test_a_gguf_export_and_its_parity_check_from_the_screen(
    demo: Path, tmp_path: Path
) -> None:
    from textual.widgets import Select

    from tests.real_artefacts import artefact_path

    artefact_path("llama-cpp-converter")
    app = ExportApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        screen.query_one("#export-out", Input).value = str(tmp_path / "gguf")
        screen.query_one("#export-gguf", Select).value = "q8_0"
        await pilot.pause()
        await pilot.press("ctrl+e")
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("ctrl+k")
        await app.workers.wait_for_complete()
        await pilot.pause()
        result = str(screen.query_one("#export-result", Static).render())
        assert "model-q8_0.gguf" in result and "ollama create" in result  # the export's lines
        assert "identical 5/5" in result and result.rstrip().endswith("parity: ok")
        assert (tmp_path / "gguf" / "model-q8_0.gguf").is_file()


def test_snapshot_export_refusal(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.pause()
        out = pilot.app.screen.query_one("#export-out", Input)
        out.value = "exports/q-merged"  # not the temp path, which changes on every run
        out.cursor_blink = False
        await pilot.click("#export-merge")
        await pilot.pause()

    assert snap_compare(
        ExportApp(quantized_run(tmp_path)), terminal_size=SIZE, run_before=run_before
    )
