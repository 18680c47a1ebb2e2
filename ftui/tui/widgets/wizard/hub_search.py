"""Hub matches for what is typed as the model name (searched in a worker once typing pauses).

The parent sets `query`; picking a match posts `ModelChosen(repo_id)`. Local paths, the
built-in model and exact ids that need no search are not searched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

if TYPE_CHECKING:
    from ftui.core.model.search import HubModel

MIN_QUERY = 3


def worth_searching(query: str) -> bool:
    q = query.strip()
    return len(q) >= MIN_QUERY and not q.startswith(("builtin:", "/", ".", "~"))


class HubSearch(Vertical):
    @dataclass
    class ModelChosen(Message):
        repo_id: str

    @dataclass
    class Searched(Message):
        """The hub's matches for `query`, or why there are none."""

        query: str
        models: list[HubModel]
        error: str | None

    query: reactive[str] = reactive("", init=False)

    def compose(self) -> ComposeResult:
        yield Static("", id="hub-note", classes="note")
        yield OptionList(id="hub-matches")

    def on_mount(self) -> None:
        self.query_one("#hub-matches").display = False
        self.query_one("#hub-note").display = False
        self._timer: Any = None

    def watch_query(self, query: str) -> None:
        if self._timer is not None:
            self._timer.stop()
        if worth_searching(query):
            self._timer = self.set_timer(0.6, lambda: self._search(query.strip()))

    @work(thread=True, exclusive=True, exit_on_error=False, group="hub-search")
    def _search(self, query: str) -> None:
        from ftui.core.model.search import search_models

        try:
            self.post_message(self.Searched(query, search_models(query), None))
        except Exception as exc:
            self.post_message(self.Searched(query, [], str(exc)))

    @on(Searched)
    def _searched(self, event: Searched) -> None:
        event.stop()
        if event.query != self.query.strip():
            return  # an older query
        note = self.query_one("#hub-note", Static)
        matches = self.query_one("#hub-matches", OptionList)
        matches.clear_options()
        for model in event.models:
            label = f"{model.repo_id}  ({model.downloads:,} downloads{', gated' if model.gated else ''})"
            matches.add_option(Option(Text(label), id=model.repo_id))
        matches.display = bool(event.models)
        if event.error:
            note.update(event.error)
        else:
            note.update(f"{len(event.models)} hub match(es) for {event.query!r} (enter to use)")
        note.display = True

    @on(OptionList.OptionSelected, "#hub-matches")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self.post_message(self.ModelChosen(event.option.id))
