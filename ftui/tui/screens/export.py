"""Export a run: the adapter alone or merged into the base (optionally a GGUF), then push it.

The same core call as `ftui export` (`export_run`) runs in a thread worker with progress;
ctrl+k runs `ftui export --check` (`check_export`) on the output folder the same way.
A merge into an 8-bit/4-bit base is refused before anything runs, with the alternative.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.markup import escape
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, ProgressBar, Select, Static, Switch

from ftui.core.playground.compare import adapter_sources
from ftui.core.runs.rundir import IN_RUN, RunPaths
from ftui.core.spec import RunSpec, SpecError, load_spec_file

SPEC_DTYPE = "spec"
NO_GGUF = "none"


class ExportScreen(Screen):
    CSS_PATH = "../styles/playground.tcss"
    BINDINGS = [
        Binding("escape", "leave", "Back"),
        Binding("ctrl+e", "export", "Export"),
        Binding("ctrl+k", "check", "Check parity"),
    ]

    @dataclass
    class ExportProgressed(Message):
        """A step of the export began; a burst coalesces to the newest."""

        label: str
        fraction: float

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, ExportScreen.ExportProgressed)

    @dataclass
    class ExportFinished(Message):
        """What the export wrote (or the error, with ok False), one line each."""

        lines: list[str]
        ok: bool
        check: bool = False  # a parity check's report, shown under the export's lines

    def __init__(self, run_dir: str | Path) -> None:
        super().__init__()
        self.run_dir = Path(run_dir)
        self.export_lines: list[str] = []
        try:
            self.spec: RunSpec | None = load_spec_file(RunPaths(self.run_dir).config)
        except SpecError:
            self.spec = None

    def compose(self) -> ComposeResult:
        sources = adapter_sources(self.run_dir)
        options = [(s.name, str(s.step) if s.step is not None else "final") for s in sources]
        yield Static(f"Export · {self.run_dir.name}", id="export-title")
        with Horizontal(id="export-body"):
            with VerticalScroll(id="export-form"):
                yield Label("Weights", classes="field-label")
                yield Select(
                    options or [("final", "final")],
                    value=options[-1][1] if options else "final",
                    allow_blank=False,
                    id="export-weights",
                )
                with Horizontal(classes="switch-row"):
                    yield Switch(False, id="export-merge")
                    yield Label("Merge into the base model (merge_and_unload)")
                yield Label("Base dtype for the merge", classes="field-label")
                yield Select(
                    [
                        (f"as trained ({IN_RUN.config})", SPEC_DTYPE),
                        ("bf16", "bf16"),
                        ("fp16", "fp16"),
                        ("fp32", "fp32"),
                    ],
                    value=SPEC_DTYPE,
                    allow_blank=False,
                    id="export-dtype",
                )
                yield Label("GGUF for llama.cpp / Ollama (merges)", classes="field-label")
                yield Select(
                    [("no GGUF", NO_GGUF), ("f16", "f16"), ("bf16", "bf16"), ("q8_0", "q8_0")],
                    value=NO_GGUF,
                    allow_blank=False,
                    id="export-gguf",
                )
                yield Label("Output folder", classes="field-label")
                yield Input(str(self.run_dir / "export"), id="export-out")
                yield Label(
                    "Push to the Hugging Face Hub (optional, user/name)", classes="field-label"
                )
                yield Input(placeholder="user/model-name", id="export-push")
                yield Static("", id="export-check")
                yield Button("Export", id="export-go", variant="primary")
                with Vertical(id="export-progress-row"):
                    yield ProgressBar(total=100, show_eta=False, id="export-bar")
                    yield Static("", id="export-label")
            with VerticalScroll(id="export-side"):
                yield Static(
                    "The adapter alone is small and needs the base model to run; merged, it is a "
                    "whole model that loads anywhere with AutoModelForCausalLM. Either way the "
                    "folder gets the tokenizer, the chat template, a generation config that "
                    "stops at the end of each turn, an Ollama Modelfile and a README model "
                    "card; the commands that serve it (vLLM, Ollama, llama.cpp) are shown "
                    "here. ctrl+k checks that the export answers like the playground and stops.",
                    id="export-result",
                )
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#export-progress-row").display = False
        self._check()

    def _choices(self) -> tuple[int | None, bool, str | None, str, str, str | None]:
        weights = self.query_one("#export-weights", Select).value
        dtype = self.query_one("#export-dtype", Select).value
        gguf = self.query_one("#export-gguf", Select).value
        return (
            None if weights == "final" else int(str(weights)),
            self.query_one("#export-merge", Switch).value or gguf != NO_GGUF,
            None if dtype == SPEC_DTYPE else str(dtype),
            self.query_one("#export-out", Input).value.strip(),
            self.query_one("#export-push", Input).value.strip(),
            None if gguf == NO_GGUF else str(gguf),
        )

    def refusal(self) -> str | None:
        from ftui.core.playground.export import merge_refusal

        _, merge, dtype, out, _, _ = self._choices()
        if self.spec is None:
            return f"{IN_RUN.config} cannot be read"
        if merge and dtype is None and (reason := merge_refusal(self.spec)):
            return (
                reason.removeprefix("--merge: ")
                .replace("add --base-dtype bf16", "pick bf16 as the base dtype above")
                .replace("(without --merge)", "(merge switched off)")
            )
        if not out:
            return "choose an output folder"
        return None

    def _check(self) -> None:
        reason = self.refusal()
        self.query_one("#export-check", Static).update(
            f"[b]Cannot export:[/b] {escape(reason)}" if reason else ""
        )
        self.query_one("#export-go", Button).disabled = reason is not None

    @on(Switch.Changed, "#export-merge")
    def _merge(self, event: Switch.Changed) -> None:
        out = self.query_one("#export-out", Input)
        defaults = {str(self.run_dir / "export"), str(self.run_dir / "export-merged")}
        if out.value in defaults:  # not typed by the user: follow the choice
            out.value = str(self.run_dir / ("export-merged" if event.value else "export"))
        self._check()

    @on(Select.Changed)
    def _select(self) -> None:
        self._check()

    @on(Input.Changed, "#export-out")
    def _out(self) -> None:
        self._check()

    @on(Button.Pressed, "#export-go")
    def action_export(self) -> None:
        if self.refusal() is not None:
            return
        self.query_one("#export-progress-row").display = True
        self.query_one("#export-go", Button).disabled = True
        self.query_one("#export-result", Static).update("")
        self.run_export(*self._choices())

    @work(thread=True, exclusive=True, group="export", exit_on_error=False)
    def run_export(
        self,
        checkpoint: int | None,
        merge: bool,
        dtype: str | None,
        out: str,
        repo: str,
        gguf: str | None,
    ) -> None:
        from ftui.core.playground.export import export_run, export_summary

        def progress(label: str, fraction: float) -> None:
            self.post_message(self.ExportProgressed(label, fraction))

        try:
            result = export_run(self.run_dir, out, checkpoint, merge, dtype, progress, gguf=gguf)
            lines = export_summary(result, repo or None)
            ok = True
        except Exception as exc:
            lines, ok = [f"error: {str(exc).splitlines()[0] if str(exc) else exc!r}"], False
        self.post_message(self.ExportFinished(lines, ok))

    def action_check(self) -> None:
        out = self.query_one("#export-out", Input).value.strip()
        if not out:
            return
        self.query_one("#export-progress-row").display = True
        self.query_one("#export-bar", ProgressBar).update(total=None)  # indeterminate
        self.query_one("#export-label", Static).update(f"checking {out}: the probe prompts…")
        self.run_check(out)

    @work(thread=True, exclusive=True, group="export", exit_on_error=False)
    def run_check(self, out: str) -> None:
        from ftui.core.playground.parity import check_export

        try:
            report = check_export(out)
            lines, ok = report.lines(), report.ok
        except Exception as exc:
            lines, ok = [f"error: {str(exc).splitlines()[0] if str(exc) else exc!r}"], False
        self.post_message(self.ExportFinished(lines, ok, check=True))

    @on(ExportProgressed)
    def _progress(self, msg: ExportProgressed) -> None:
        self.query_one("#export-bar", ProgressBar).update(total=100, progress=msg.fraction * 100)
        self.query_one("#export-label", Static).update(msg.label)

    @on(ExportFinished)
    def _finished(self, msg: ExportFinished) -> None:
        from rich.text import Text

        self.query_one("#export-go", Button).disabled = False
        self.query_one("#export-label", Static).update("done" if msg.ok else "failed")
        self.query_one("#export-bar", ProgressBar).update(total=100, progress=100)
        text = (
            Text("\n".join(self.export_lines) + "\n\n")
            if msg.check and self.export_lines
            else Text()
        )
        text.append("\n".join(msg.lines), style="" if msg.ok else "red")
        if not msg.check:
            self.export_lines = msg.lines if msg.ok else []
        self.query_one("#export-result", Static).update(text)

    def action_leave(self) -> None:
        self.app.pop_screen()
