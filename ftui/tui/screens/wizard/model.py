"""Model: a local path, a model in the Hugging Face cache, or a hub id; what it is, read from
its config files in a worker; trust_remote_code asked for explicitly."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.widgets import LoadingIndicator, OptionList, Static
from textual.widgets.option_list import Option

from ftui.core.units import human_bytes
from ftui.tui.loaded import Loaded
from ftui.tui.messages import SpecChanged
from ftui.tui.screens.wizard.base import StepScreen
from ftui.tui.widgets.wizard.hub_search import HubSearch
from ftui.tui.widgets.wizard.model_facts import ModelFactsPanel, trains_in_text
from ftui.tui.widgets.wizard.spec_form import FieldRow, SpecForm, row_id

DEMO = "builtin:demo-tiny-llama"
FIELDS = [
    "model.name_or_path",
    "model.revision",
    "model.trust_remote_code",
    "model.attn_implementation",
]
TRUST_WHY = (
    "trust_remote_code runs Python that ships inside the model repository, on this machine, "
    "with your permissions. Leave it off unless the model needs it, and then pin "
    "model.revision to a commit whose code you have read."
)
LOGIN = (
    "Gated models (meta-llama/…, google/gemma-…): accept the licence on the model's hub page, "
    "then run `hf auth login` in a shell. huggingface_hub keeps the token; ftui never stores it."
)


class ModelScreen(StepScreen):
    STEP_ID = "model"
    INTRO = (
        "Type a hub id or a local path (a model directory or a .gguf file), or pick a model "
        "already on this machine."
    )

    def compose_body(self) -> ComposeResult:
        yield SpecForm(
            FIELDS,
            self.values(FIELDS),
            helps={"model.trust_remote_code": TRUST_WHY},
            wide=("model.name_or_path",),
        )
        yield HubSearch(id="hub-search")
        yield Static("This model", classes="section-title")
        yield LoadingIndicator(id="facts-loading")
        yield ModelFactsPanel(id="facts")
        yield Static("On this machine (enter to use)", classes="section-title")
        yield Static("", id="cache-note", classes="note")
        yield OptionList(id="cached")
        yield Static(LOGIN, classes="note")

    def on_mount(self) -> None:
        self.watch(self.app, "model_facts", self._facts_changed)
        # the training precision shown for a GGUF depends on the GPUs found
        self.watch(self.app, "hardware", lambda _: self._facts_changed(self.wizard.model_facts))
        self.watch(self.app, "cached_models", self._cache_changed)

    def _facts_changed(self, facts: Loaded) -> None:
        self.query_one("#facts-loading").display = facts.loading
        trains_in = trains_in_text(self.value("model.dtype"), self.wizard.hardware.value)
        self.query_one(ModelFactsPanel).show(facts, trains_in)

    def _cache_changed(self, cached: Loaded) -> None:
        options = self.query_one("#cached", OptionList)
        options.clear_options()
        options.add_option(
            Option(Text(f"{DEMO}  (built-in demo model; not a pretrained LLM)"), id=DEMO)
        )
        for model in cached.value or []:
            label = f"{model.repo_id}  ({human_bytes(model.size_on_disk)})"
            options.add_option(Option(Text(label), id=model.repo_id))
        note = self.query_one("#cache-note", Static)
        if cached.loading:
            note.update("Scanning the Hugging Face cache…")
        elif cached.error:
            note.update(f"The Hugging Face cache scan is not available: {cached.error}")
        else:
            note.update(f"{len(cached.value or [])} model(s) in the Hugging Face cache")

    @on(SpecChanged)
    def _name_typed(self, event: SpecChanged) -> None:
        # Not stopped: the app applies the change; the search only looks at it.
        if event.typing and "model.name_or_path" in event.changes:
            self.query_one(HubSearch).query = str(event.changes["model.name_or_path"] or "")

    @on(HubSearch.ModelChosen)
    def _hub_chosen(self, event: HubSearch.ModelChosen) -> None:
        event.stop()
        self._use(event.repo_id)

    @on(OptionList.OptionSelected, "#cached")
    def _cached_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._use(event.option.id or DEMO)

    def _use(self, name: Any) -> None:
        self.post_message(SpecChanged({"model.name_or_path": name}))
        self.query_one(f"#{row_id('model.name_or_path')}", FieldRow).set_value(name)
