"""A form row per RunSpec field: label, the right input for its type, its docstring as help,
and its errors in place.

The row posts `SpecChanged({path: value})` when the user changes it (values that do not parse
are posted as text, so validation can name them); the screen sets `errors` on it.
"""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Label, Select, Static

from ftui.core.spec import field_help
from ftui.tui.fields import field_info, format_value, parse_text
from ftui.tui.messages import SpecChanged


def row_id(path: str) -> str:
    return "field-" + path.replace(".", "-")


class FieldRow(Vertical):
    """One field. `choices` overrides the labels of a choice field: [(label, value), ...]."""

    errors: reactive[list[str]] = reactive(list, always_update=True)

    def __init__(
        self,
        path: str,
        value: Any,
        *,
        label: str | None = None,
        help: str | None = None,
        choices: list[tuple[str, str]] | None = None,
        disabled: bool = False,
        wide: bool = False,
    ) -> None:
        classes = "field-row -wide" if wide else "field-row"
        super().__init__(id=row_id(path), classes=classes, disabled=disabled)
        self.wide = wide
        self.path = path
        self.info = field_info(path)
        self._value = value
        self._label = label or path.rsplit(".", 1)[-1]
        self._help = " ".join((help if help is not None else field_help(path)).split())
        self._choices = choices

    def compose(self) -> ComposeResult:
        with Horizontal(classes="field-line"):
            yield Label(self._label, classes="field-label")
            yield self._control()
            if not self.wide:
                yield Static(self._help, classes="field-help")
        if self.wide:  # a long value gets the whole line; its help goes underneath
            yield Static(self._help, classes="field-help field-help-below")
        yield Static("", classes="field-error")

    def _control(self) -> Widget:
        info, value = self.info, self._value
        if info.kind == "bool":
            return Checkbox("", bool(value), compact=True, classes="field-input")
        if info.kind == "choice":
            options = self._choices or [(c, c) for c in info.choices]
            known = {v for _, v in options}
            return Select(
                options,
                value=value if value in known else Select.NULL,
                allow_blank=info.optional or value not in known,
                compact=True,
                classes="field-input",
            )
        return Input(format_value(value), compact=True, classes="field-input")

    @property
    def control(self) -> Widget:
        return self.query_one(".field-input", Widget)

    def focus_input(self) -> None:
        self.control.focus()

    def _changed(self, value: Any, typing: bool = False) -> None:
        if value != self._value:
            self._value = value
            self.post_message(SpecChanged({self.path: value}, typing=typing))

    @on(Input.Changed)
    def _input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._changed(parse_text(self.info, event.value), typing=True)

    @on(Checkbox.Changed)
    def _checkbox_changed(self, event: Checkbox.Changed) -> None:
        event.stop()
        self._changed(event.value)

    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        event.stop()
        if event.value is not Select.NULL:
            self._changed(event.value)

    def set_value(self, value: Any) -> None:
        """Show a value set from elsewhere (a preset button), without posting it back."""
        self._value = value
        control = self.control
        with control.prevent(Input.Changed, Checkbox.Changed, Select.Changed):
            if isinstance(control, Input):
                control.value = format_value(value)
            elif isinstance(control, Checkbox):
                control.value = bool(value)
            elif isinstance(control, Select):
                control.value = value

    def on_mount(self) -> None:
        self.watch_errors(self.errors)

    def watch_errors(self, errors: list[str]) -> None:
        self.set_class(bool(errors), "-invalid")
        if self.is_mounted:
            self.query_one(".field-error", Static).update("\n".join(errors))


class SpecForm(Vertical):
    """Rows for `paths`, filled from `values` (path -> value). Per path, `helps` replaces the
    docstring and `choices` the options of a choice field; `wide` paths get a full-width input."""

    def __init__(
        self,
        paths: list[str],
        values: dict[str, Any],
        helps: dict[str, str] | None = None,
        full_labels: bool = False,
        choices: dict[str, list[tuple[str, str]]] | None = None,
        wide: tuple[str, ...] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(classes="spec-form", **kwargs)
        self.paths = paths
        self.values = values
        self.helps = helps or {}
        self.full_labels = full_labels
        self.choices = choices or {}
        self.wide = wide

    def compose(self) -> ComposeResult:
        for path in self.paths:
            yield FieldRow(
                path,
                self.values.get(path),
                label=path if self.full_labels else None,
                help=self.helps.get(path),
                choices=self.choices.get(path),
                wide=path in self.wide,
            )
