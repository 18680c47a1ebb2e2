"""What every wizard step shares: the step list, a scrolling body, validation marks in place.

A step screen defines STEP_ID and compose_body(); it reads the draft from the app
(attributes down) and posts SpecChanged (messages up). It may override `validation_changed`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from ftui.tui.draft import Validation
from ftui.tui.steps import get_step
from ftui.tui.widgets.wizard.spec_form import FieldRow, row_id
from ftui.tui.widgets.wizard.step_list import StepList

if TYPE_CHECKING:
    from ftui.tui.app import FtuiApp


class StepScreen(Screen[None]):
    # The wizard's keys belong to its steps: on the monitor, the playground or Export they
    # would shadow those screens' own keys (ctrl+r is Run probes there) and crowd the footer.
    BINDINGS = [
        Binding("ctrl+n", "app.next_step", "Next step", priority=True),
        Binding("ctrl+p", "app.previous_step", "Previous", priority=True),
        Binding("ctrl+s", "app.save_preset", "Save preset", priority=True),
        Binding("ctrl+r", "app.show_runs", "Runs", priority=True),
    ]
    AUTO_FOCUS = None
    STEP_ID: ClassVar[str] = ""
    INTRO: ClassVar[str] = ""

    def __init__(self, focus_field: str | None = None) -> None:
        super().__init__(classes=f"step step-{self.STEP_ID}")
        self.focus_field = focus_field

    @property
    def wizard(self) -> FtuiApp:
        return cast("FtuiApp", self.app)  # step screens are only shown by FtuiApp

    def value(self, path: str) -> Any:
        return self.wizard.draft.get(path)

    def values(self, paths: list[str]) -> dict[str, Any]:
        return {p: self.value(p) for p in paths}

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="wizard"):
            yield StepList(self.STEP_ID, id="steps")
            with VerticalScroll(id="body"):
                yield Static(get_step(self.STEP_ID).title, classes="step-title")
                if self.INTRO:
                    yield Static(self.INTRO, classes="step-intro")
                yield from self.compose_body()
        yield Footer()

    def compose_body(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        self.watch(self.app, "validation", self._validation_changed)
        self.watch(self.app, "data_problem", lambda _: self._mark_steps(), init=False)
        self.call_after_refresh(self._initial_focus)

    def _initial_focus(self) -> None:
        if self.focus_field:
            rows = self.query(f"#{row_id(self.focus_field)}")
            if rows:
                row = rows.first(FieldRow)
                row.focus_input()
                self.query_one("#body").scroll_to_widget(row, animate=False)
                return
        self.focus_first()

    def focus_first(self) -> None:
        """Where the cursor starts: the first input of the body."""
        body = self.query_one("#body")
        for widget in self.focus_chain:
            if body in widget.ancestors:
                widget.focus()
                return

    def _mark_steps(self) -> None:
        """✗ on the steps with invalid fields, and on Data while its mapping has a problem."""
        invalid = self.wizard.validation.invalid_steps()
        if self.wizard.data_problem:
            invalid.add("data")
        self.query_one(StepList).invalid = frozenset(invalid)

    def _validation_changed(self, validation: Validation) -> None:
        self._mark_steps()
        for row in self.query(FieldRow):
            row.errors = validation.errors_for(row.path)
        self.validation_changed(validation)

    def validation_changed(self, validation: Validation) -> None:
        """Hook: recompute what this step derives from the spec (effective batch, YAML)."""

    @on(StepList.StepChosen)
    def _step_chosen(self, event: StepList.StepChosen) -> None:
        self.wizard.open_step(event.step_id)
