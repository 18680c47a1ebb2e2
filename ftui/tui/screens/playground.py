"""The playground: chat with a run's model, and compare it with its base and its checkpoints.

The widgets show; the thread workers here call the core (`load_chat_model`, `ChatSession`,
`compare`) and post past-tense messages, never touching a widget; the handlers own the
state. A load or an answer that raises lands in `_worker_failed`, which shows why. One model
is in memory; the base is the same weights with the adapter off.

Streaming posts `AnswerGrew` with the whole answer so far, batched in time and coalescing
(`can_replace`) on the way, so a fast model never floods the UI and no text is lost.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Input, ProgressBar, Static, TabbedContent, TabPane
from textual.worker import Worker, WorkerState, get_current_worker

from ftui.core.demo import DEMO_MODEL_REF
from ftui.core.playground.compare import (
    AdapterSource,
    Probe,
    answer_with,
    best_source,
    ensure_adapter,
    source_label,
)
from ftui.core.playground.gpu_guard import gpu_load_warning
from ftui.core.playground.session import BASE, ChatSession
from ftui.core.runs.checkpoints import CheckpointChoice
from ftui.core.runs.eval_card import eval_card_lines
from ftui.core.runs.rundir import RunPaths
from ftui.core.spec import GenerationSection, SpecError, load_spec_file
from ftui.tui.loaded import reason
from ftui.tui.playground_model import PlaygroundModel, load_playground_model, pick_device
from ftui.tui.widgets.chat.compare import ComparePane, ProbeTable
from ftui.tui.widgets.chat.gpu_warning import ConfirmLoad
from ftui.tui.widgets.chat.log import ChatLog, printable
from ftui.tui.widgets.chat.settings import FIELDS, ChatSettings

if TYPE_CHECKING:
    from ftui.core.playground.session import GenerationStats

# Streaming chunks are posted at most this often; each post carries the whole answer so far.
POST_EVERY_S = 0.03


def first_line(error: BaseException | None) -> str:
    return reason(error).splitlines()[0]


class PlaygroundScreen(Screen):
    CSS_PATH = "../styles/playground.tcss"
    AUTO_FOCUS = "#chat-input"  # keyboard first: type a question and press Enter
    # Esc stops an answer while one streams, else leaves (check_action shows the one that
    # applies); q and other printable keys belong to the inputs.
    BINDINGS = [
        Binding("escape", "stop", "Stop generating"),
        Binding("escape", "leave", "Back"),
        Binding("ctrl+l", "clear", "Clear chat", priority=True),
        Binding("ctrl+b", "toggle_base", "Base / fine-tuned", priority=True),
        Binding("ctrl+r", "run_probes", "Run probes", priority=True),
        Binding("f1", "tab('chat')", "Chat", priority=True),
        Binding("f2", "tab('compare')", "Compare", priority=True),
        Binding("ctrl+o", "export", "Export", priority=True),
    ]

    @dataclass
    class LoadProgressed(Message):
        label: str
        fraction: float

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, PlaygroundScreen.LoadProgressed)

    @dataclass
    class GpuFoundBusy(Message):
        """Another process uses the GPU: loading waits for the user's go-ahead."""

        warning: str

    @dataclass
    class ModelLoaded(Message):
        loaded: PlaygroundModel

    @dataclass
    class AnswerGrew(Message):
        turn: int
        text: str  # the whole answer so far
        chunks: int

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, PlaygroundScreen.AnswerGrew) and message.turn == self.turn

    @dataclass
    class AnswerFinished(Message):
        turn: int
        text: str
        stats: GenerationStats | None
        chunks: int

    @dataclass
    class CompareAnswered(Message):
        pane: str
        choice: str
        text: str

    @dataclass
    class ProbeAnswered(Message):
        row: int
        column: str
        text: str

    def __init__(
        self,
        run_dir: str | Path,
        base: bool = False,
        checkpoint: CheckpointChoice = None,
        clock: Callable[[], float] = time.perf_counter,
        device: str | None = None,
    ) -> None:
        super().__init__()
        self.target = Path(run_dir)
        self.device = device  # None: cuda when there is one, else cpu
        self.start_base = base
        self.checkpoint = checkpoint
        self.clock = clock
        self.session: ChatSession | None = None
        self.chat_choice = BASE
        self._generating = False
        self.turn = 0
        self.clear_pending = False
        self.probes: list[Probe] = []
        self.sources: dict[str, AdapterSource] = {}
        self.pending_question: str | None = None
        self.probes_pending = False  # ctrl+r before the model loaded: run them once it is
        self.probe_cells = (0, 0)  # (answered, total) of the probe run under way

    def compose(self) -> ComposeResult:
        yield Static(f"Playground · {self.target.name}", id="pg-title")
        with Horizontal(id="load-row"):
            yield ProgressBar(total=100, show_eta=False, id="load-bar")
            yield Static("loading…", id="load-label")
        with TabbedContent(initial="chat", id="pg-tabs"):
            with TabPane("Chat", id="chat"), Horizontal():
                with Vertical(id="chat-main"):
                    yield ChatLog(id="chat-log")
                    yield Static("", id="chat-stats")
                    yield Input(
                        placeholder="Ask something · Enter sends · Esc stops", id="chat-input"
                    )
                yield ChatSettings(self._spec_generation(), None, id="chat-settings")
            with TabPane("Compare", id="compare"), Vertical():
                yield Input(
                    placeholder="A prompt for both sides · Enter compares", id="compare-input"
                )
                with Horizontal(id="compare-panes"):
                    yield ComparePane(id="left")
                    yield ComparePane(id="right")
                with Horizontal(id="probe-head", classes="section"):
                    yield Static(
                        "Probe prompts × checkpoints · ctrl+r runs them · "
                        "green: the dataset's answer"
                    )
                    yield Static("", id="probe-status")
                yield Input(placeholder="Add a probe prompt · Enter adds", id="probe-input")
                yield ProbeTable(id="probe-table", zebra_stripes=True, cursor_type="cell")
                yield Static("", id="probe-detail")
        yield Footer()

    def _spec_generation(self) -> GenerationSection:
        try:
            return load_spec_file(RunPaths(self.target).config).generation
        except SpecError:
            return GenerationSection()

    def on_mount(self) -> None:
        self.query_one("#chat-log", ChatLog).add_turn(
            "note", "Loading the model… you can type your first question meanwhile."
        )
        self.load_model()

    def on_unmount(self) -> None:
        """Leaving or quitting: a streaming answer stops at its next token, so its thread
        does not hold the app's exit (Textual waits for its worker threads)."""
        if self.session is not None:
            self.session.stop()

    # --- loading -------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="pg-load", exit_on_error=False)
    def load_model(self, confirmed: bool = False) -> None:
        def progress(label: str, fraction: float) -> None:
            self.post_message(self.LoadProgressed(label, fraction))

        progress("importing torch", 0.02)
        device = pick_device(self.device)
        if not confirmed and (warning := gpu_load_warning(self.target, device)):
            self.post_message(self.GpuFoundBusy(warning))
            return
        loaded = load_playground_model(self.target, self.checkpoint, device, progress)
        self.post_message(self.ModelLoaded(loaded))

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        """The one failure handler: a load or an answer that raised says why."""
        if event.state != WorkerState.ERROR:
            return
        error = first_line(event.worker.error)
        if event.worker.group == "pg-load":
            self.query_one("#load-label", Static).update(f"could not load: {error}")
            self.query_one("#chat-log", ChatLog).add_turn("note", f"Could not load: {error}")
        elif event.worker.group == "pg-chat":
            self.generating = False
            self.query_one("#chat-log", ChatLog).grow("", detail=f"error: {error}")
            self.notify(error, severity="error")

    @on(LoadProgressed)
    def _load_progress(self, msg: LoadProgressed) -> None:
        self.query_one("#load-bar", ProgressBar).update(progress=msg.fraction * 100)
        self.query_one("#load-label", Static).update(msg.label)

    @on(GpuFoundBusy)
    def _gpu_busy(self, msg: GpuFoundBusy) -> None:
        def answer(load: bool | None) -> None:
            if load:
                self.load_model(confirmed=True)
            else:
                self.query_one("#load-label", Static).update("not loaded (GPU in use)")

        self.app.push_screen(ConfirmLoad(msg.warning), answer)

    @on(ModelLoaded)
    def _loaded(self, msg: ModelLoaded) -> None:
        loaded = msg.loaded
        cm = loaded.cm
        self.session = ChatSession(cm, clock=self.clock)
        self.probes = loaded.probes
        self.sources = {s.name: s for s in loaded.sources}
        self.query_one("#load-row").display = False
        options = self.weight_options()
        self.chat_choice = BASE if self.start_base or not cm.has_adapter else loaded.loaded_choice
        settings = self.query_one(ChatSettings)
        settings.set_weights(options, self.chat_choice)
        settings.query_one("#system-prompt", Input).value = self.session.system_prompt or ""
        self.query_one("#left", ComparePane).set_weights(options, BASE)
        self.query_one("#right", ComparePane).set_weights(options, loaded.loaded_choice)
        self._setup_probes()
        self._show_title()
        log = self.query_one("#chat-log", ChatLog)
        log.clear_turns()
        if cm.spec.model.name_or_path == DEMO_MODEL_REF:  # not the real built-in SmolLM2
            log.add_turn("note", "The demo model is not a pretrained LLM: it only knows its data.")
        for line in eval_card_lines(self.target):
            log.add_turn("note", line)
        if self.pending_question:
            self._ask(self.pending_question)
        if self.probes_pending:
            self.probes_pending = False
            self.action_run_probes()

    @property
    def generating(self) -> bool:
        """An answer is streaming (Esc stops it; otherwise Esc goes back)."""
        return self._generating

    @generating.setter
    def generating(self, value: bool) -> None:
        self._generating = value
        self.refresh_bindings()

    def weight_options(self) -> list[tuple[str, str]]:
        has_adapter = self.session is not None and self.session.cm.has_adapter
        first = ("base (adapter off)", BASE) if has_adapter else ("model", BASE)
        best = best_source(list(self.sources.values()))
        return [first] + [(source_label(s, best), name) for name, s in self.sources.items()]

    def adapter_for(self, choice: str) -> str:
        """An option of the weights lists (BASE or a source name) → a loaded adapter name."""
        if choice == BASE or self.session is None:
            return BASE
        return ensure_adapter(self.session.cm, self.sources[choice])

    def _setup_probes(self) -> None:
        columns = [BASE, *self.sources] if self.sources else [BASE]
        self.query_one(ProbeTable).setup([p.prompt for p in self.probes], columns)

    # --- chat ----------------------------------------------------------------------------
    @on(Input.Submitted, "#chat-input")
    def _submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            return
        if self.generating:
            self.notify("Still answering: wait, or press Esc to stop", severity="warning")
            return
        event.input.value = ""
        if self.session is None:
            self.pending_question = text
            self.query_one("#chat-log", ChatLog).add_turn("user", text)
            return
        self._ask(text)

    def _ask(self, text: str) -> None:
        log = self.query_one("#chat-log", ChatLog)
        if self.pending_question != text:
            log.add_turn("user", text)
        self.pending_question = None
        label = dict((v, k) for k, v in self.weight_options()).get(self.chat_choice, "model")
        log.add_turn("assistant", "", label=label)
        self.turn += 1
        self.generating = True
        self.generate(self.turn, text, self.chat_choice)

    @work(thread=True, group="pg-chat", exit_on_error=False)
    def generate(self, turn: int, text: str, choice: str) -> None:
        session = self.session
        assert session is not None
        session.set_adapter(self.adapter_for(choice))
        chunks, so_far, posted_at = 0, "", 0.0
        for chunk in session.stream(text):
            so_far += chunk
            chunks += 1
            now = time.monotonic()
            if now - posted_at >= POST_EVERY_S:  # batched: the UI redraws ~30 times a second
                posted_at = now
                self.post_message(self.AnswerGrew(turn, so_far, chunks))
        answer = session.messages[-1].content
        self.post_message(self.AnswerFinished(turn, answer, session.last_stats, chunks))

    @on(AnswerGrew)
    def _grew(self, msg: AnswerGrew) -> None:
        if msg.turn == self.turn:
            self.query_one("#chat-log", ChatLog).grow(msg.text)

    @on(AnswerFinished)
    def _finished(self, msg: AnswerFinished) -> None:
        self.generating = False
        line = msg.stats.describe() if msg.stats else ""
        self.query_one("#chat-log", ChatLog).grow(msg.text, detail=line)
        self.query_one("#chat-stats", Static).update(line)
        if self.clear_pending:
            self.action_clear()

    def action_stop(self) -> None:
        if self.session is not None and self.generating:
            self.session.stop()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Esc is Stop generating while an answer streams, else Back."""
        if action == "stop":
            return self.generating
        if action == "leave":
            return not self.generating
        return True

    def action_leave(self) -> None:
        """Back to the screen that opened the playground (the monitor), or out of `ftui chat`."""
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()
        else:
            self.app.exit()

    def action_clear(self) -> None:
        if self.generating and self.session is not None:
            self.clear_pending = True
            self.session.stop()
            return
        self.clear_pending = False
        if self.session is not None:
            self.session.clear()
        self.query_one("#chat-log", ChatLog).clear_turns()
        self.query_one("#chat-stats", Static).update("")

    def action_toggle_base(self) -> None:
        options = [v for _, v in self.weight_options()]
        tuned = next((v for v in reversed(options) if v != BASE), BASE)
        self._choose(tuned if self.chat_choice == BASE else BASE)
        self.query_one(ChatSettings).show_weights(self.chat_choice)

    def _show_title(self) -> None:
        """Which weights answer in the chat: the base (adapter off), an adapter, or a model."""
        if self.session is None:
            return
        cm = self.session.cm
        if not cm.has_adapter:
            weights = f"model from {Path(cm.source).name}/"
        elif self.chat_choice == BASE:
            weights = "base model (adapter off)"
        else:
            source = self.sources.get(self.chat_choice)
            weights = f"adapter from {source.path.name if source else self.chat_choice}/"
        self.query_one("#pg-title", Static).update(
            f"Playground · {self.target.name} · {weights} · {cm.device}"
        )

    def _choose(self, choice: str) -> None:
        self.chat_choice = choice
        self._show_title()
        label = dict((v, k) for k, v in self.weight_options()).get(choice, choice)
        self.query_one("#chat-stats", Static).update(f"answering with: {label}")

    @on(ChatSettings.WeightsChosen)
    def _weights(self, msg: ChatSettings.WeightsChosen) -> None:
        self._choose(msg.choice)

    @on(ChatSettings.SettingChanged)
    def _setting(self, msg: ChatSettings.SettingChanged) -> None:
        if self.session is None or msg.name not in FIELDS:
            return
        try:
            value = float(msg.raw) if msg.name in ("temperature", "top_p") else int(msg.raw)
            self.session.set_settings(**{msg.name: value})
            error = None
        except ValueError as exc:
            error = str(exc) if "generation." in str(exc) else f"not a number: {msg.raw!r}"
        self.query_one(ChatSettings).mark(msg.name, error)

    @on(ChatSettings.SystemPromptChanged)
    def _system(self, msg: ChatSettings.SystemPromptChanged) -> None:
        if self.session is not None:
            self.session.set_system_prompt(msg.text)

    # --- compare -------------------------------------------------------------------------
    @on(Input.Submitted, "#compare-input")
    def _compare(self, event: Input.Submitted) -> None:
        if self.session is None or not event.value.strip():
            return
        panes = [self.query_one("#left", ComparePane), self.query_one("#right", ComparePane)]
        for pane in panes:
            pane.show("…", dim=True)
        self.compare(event.value.strip(), [(p.id or "", p.choice) for p in panes])

    @work(thread=True, exclusive=True, group="pg-compare", exit_on_error=False)
    def compare(self, prompt: str, panes: list[tuple[str, str]]) -> None:
        system = self.session.system_prompt if self.session is not None else None
        for pane, choice in panes:
            text = self._answer_or_error(prompt, choice, system)
            self.post_message(self.CompareAnswered(pane, choice, text))

    def _answer_or_error(self, prompt: str, choice: str, system: str | None = None) -> str:
        """One pane's or probe cell's answer. Each answers on its own: one that fails shows
        its error as its text, and the others still answer."""
        session = self.session
        assert session is not None
        try:
            adapter = self.adapter_for(choice)
            return answer_with(session.cm, prompt, adapter, session.settings, system=system)
        except Exception as exc:
            return f"error: {first_line(exc)}"

    @on(CompareAnswered)
    def _compared(self, msg: CompareAnswered) -> None:
        self.query_one(f"#{msg.pane}", ComparePane).show(msg.text)

    @on(Input.Submitted, "#probe-input")
    def _add_probe(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.probes.append(Probe(event.value.strip()))
            event.input.value = ""
            self._setup_probes()

    def action_run_probes(self) -> None:
        if self.session is None:
            self.probes_pending = True
            label = self.query_one("#load-label", Static).render()
            self.notify(f"The model is still loading ({label}): the probes run once it is.")
            return
        if not self.probes:
            self.notify("No probe prompts yet: add one above the table (Enter adds).")
            return
        columns = [BASE, *self.sources]
        self._setup_probes()
        self._probe_progress(0, len(self.probes) * len(columns))
        self.run_probes(list(self.probes))

    def _probe_progress(self, answered: int, total: int) -> None:
        self.probe_cells = (answered, total)
        line = (
            f"Probes: {answered}/{total} answers…"
            if answered < total
            else f"Probes: all {total} answers in"
        )
        self.query_one("#probe-status", Static).update(line)

    @work(thread=True, exclusive=True, group="pg-probes", exit_on_error=False)
    def run_probes(self, probes: list[Probe]) -> None:
        worker = get_current_worker()
        for column in [BASE, *self.sources]:
            for row, probe in enumerate(probes):
                if worker.is_cancelled:  # the screen is gone: no more answers to show
                    return
                text = self._answer_or_error(probe.prompt, column)
                self.post_message(self.ProbeAnswered(row, column, text))

    @on(ProbeAnswered)
    def _probe_cell(self, msg: ProbeAnswered) -> None:
        expected = self.probes[msg.row].expected if msg.row < len(self.probes) else None
        self.query_one(ProbeTable).fill(msg.row, msg.column, msg.text, expected)
        answered, total = self.probe_cells
        self._probe_progress(answered + 1, total)

    @on(ProbeTable.CellHighlighted)
    def _probe_detail(self, event: ProbeTable.CellHighlighted) -> None:
        table = self.query_one(ProbeTable)
        text = table.full_text(event.coordinate)
        self.query_one("#probe-detail", Static).update(Text(printable(text)))

    def action_tab(self, tab: str) -> None:
        self.query_one("#pg-tabs", TabbedContent).active = tab
        # The focused input must be on the visible tab, or keys go to a hidden one.
        self.query_one(f"#{tab}-input", Input).focus()

    def action_export(self) -> None:
        if RunPaths(self.target).config.is_file():
            from ftui.tui.screens.export import ExportScreen

            self.app.push_screen(ExportScreen(self.target))
