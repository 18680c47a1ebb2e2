"""The playground's thread workers and the messages they post.

Each worker calls the core and posts what happened; it never touches a widget. Streaming
posts `AnswerGrew` with the whole answer so far, batched in time and coalescing
(`can_replace`) on the way, so a fast model never floods the UI and no text is lost.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import work
from textual.message import Message

from ftui.core.playground.session import BASE

# Streaming chunks are posted at most this often; each post carries the whole answer so far.
POST_EVERY_S = 0.03

if TYPE_CHECKING:
    from ftui.core.playground.compare import AdapterSource, Probe
    from ftui.core.playground.inference import ChatModel
    from ftui.core.playground.session import ChatSession, GenerationStats


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


class PlaygroundWorkers:
    """Mixed into PlaygroundScreen, which provides target, checkpoint, start_base, session."""

    target: Path
    checkpoint: int | None
    start_base: bool
    device: str | None
    session: ChatSession | None
    sources: dict[str, AdapterSource] = {}
    pending_question: str | None = None

    class LoadProgressed(Message):
        def __init__(self, label: str, fraction: float) -> None:
            super().__init__()
            self.label = label
            self.fraction = fraction

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, PlaygroundWorkers.LoadProgressed)

    class GpuBusy(Message):
        def __init__(self, warning: str) -> None:
            super().__init__()
            self.warning = warning

    class LoadFailed(Message):
        def __init__(self, error: str) -> None:
            super().__init__()
            self.error = error

    class ModelLoaded(Message):
        def __init__(
            self, cm: ChatModel, sources: list[AdapterSource], probes: list[Probe], choice: str
        ) -> None:
            super().__init__()
            self.cm = cm
            self.sources = sources
            self.probes = probes
            self.loaded_choice = choice

    class AnswerGrew(Message):
        def __init__(self, turn: int, text: str, chunks: int) -> None:
            super().__init__()
            self.turn = turn
            self.text = text  # the whole answer so far
            self.chunks = chunks

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, PlaygroundWorkers.AnswerGrew) and message.turn == self.turn

    class AnswerFinished(Message):
        def __init__(
            self, turn: int, text: str, stats: GenerationStats | None, chunks: int
        ) -> None:
            super().__init__()
            self.turn = turn
            self.text = text
            self.stats = stats
            self.chunks = chunks

    class AnswerFailed(Message):
        def __init__(self, turn: int, error: str) -> None:
            super().__init__()
            self.turn = turn
            self.error = error

    class CompareAnswered(Message):
        def __init__(self, pane: str, choice: str, text: str) -> None:
            super().__init__()
            self.pane = pane
            self.choice = choice
            self.text = text

    class ProbeAnswered(Message):
        def __init__(self, row: int, column: str, text: str) -> None:
            super().__init__()
            self.row = row
            self.column = column
            self.text = text

    post_message: Any  # from the Screen

    @work(thread=True, exclusive=True, group="pg-load", exit_on_error=False)
    def load_model(self, confirmed: bool = False) -> None:
        from ftui.core.playground.compare import adapter_sources, probe_prompts
        from ftui.core.playground.gpu_guard import gpu_load_warning
        from ftui.core.playground.inference import load_chat_model
        from ftui.core.runs.rundir import RunPaths

        def progress(label: str, fraction: float) -> None:
            self.post_message(self.LoadProgressed(label, fraction))

        try:
            progress("importing torch", 0.02)
            import torch

            device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
            if not confirmed and (warning := gpu_load_warning(self.target, device)):
                self.post_message(self.GpuBusy(warning))
                return
            paths = RunPaths(self.target)
            is_run = paths.config.is_file()
            sources = adapter_sources(self.target) if is_run else []
            checkpoint, base_only = self.checkpoint, False
            if is_run and checkpoint is None and not paths.final.is_dir():
                steps = [s.step for s in sources if s.step is not None]
                checkpoint, base_only = (steps[-1], False) if steps else (None, True)
            cm = load_chat_model(
                self.target,
                base=base_only,
                checkpoint=checkpoint,
                device=device,
                progress=progress,
            )
            probes = []
            if is_run:
                try:
                    probes = probe_prompts(cm.spec)
                except Exception:  # probes are optional: typed ones still work
                    probes = []
            loaded = str(Path(cm.adapters.get("default", "")).resolve())
            choice = next((s.name for s in sources if str(s.path.resolve()) == loaded), BASE)
        except Exception as exc:
            self.post_message(self.LoadFailed(_first_line(exc)))
            return
        self.post_message(self.ModelLoaded(cm, sources, probes, choice))

    def adapter_for(self, choice: str) -> str:
        """An option of the weights lists (BASE or a source name) → a loaded adapter name."""
        from ftui.core.playground.compare import ensure_adapter

        if choice == BASE or self.session is None:
            return BASE
        return ensure_adapter(self.session.cm, self.sources[choice])

    @work(thread=True, group="pg-chat", exit_on_error=False)
    def generate(self, turn: int, text: str, choice: str) -> None:
        session = self.session
        assert session is not None
        chunks = 0
        try:
            session.set_adapter(self.adapter_for(choice))
            so_far, posted_at = "", 0.0
            for chunk in session.stream(text):
                so_far += chunk
                chunks += 1
                now = time.monotonic()
                if now - posted_at >= POST_EVERY_S:  # batched: the UI redraws ~30 times a second
                    posted_at = now
                    self.post_message(self.AnswerGrew(turn, so_far, chunks))
            answer = session.messages[-1].content
        except Exception as exc:
            self.post_message(self.AnswerFailed(turn, _first_line(exc)))
            return
        self.post_message(self.AnswerFinished(turn, answer, session.last_stats, chunks))

    @work(thread=True, exclusive=True, group="pg-compare", exit_on_error=False)
    def compare(self, prompt: str, panes: list[tuple[str, str]]) -> None:
        from ftui.core.playground.compare import answer_with

        session = self.session
        assert session is not None
        for pane, choice in panes:
            try:
                text = answer_with(
                    session.cm,
                    prompt,
                    self.adapter_for(choice),
                    session.settings,
                    system=session.system_prompt,
                )
            except Exception as exc:
                text = f"error: {_first_line(exc)}"
            self.post_message(self.CompareAnswered(pane, choice, text))

    @work(thread=True, exclusive=True, group="pg-probes", exit_on_error=False)
    def run_probes(self, probes: list[Probe]) -> None:
        from ftui.core.playground.compare import answer_with

        session = self.session
        assert session is not None
        for column in [BASE, *self.sources]:
            for row, probe in enumerate(probes):
                try:
                    text = answer_with(
                        session.cm, probe.prompt, self.adapter_for(column), session.settings
                    )
                except Exception as exc:
                    text = f"error: {_first_line(exc)}"
                self.post_message(self.ProbeAnswered(row, column, text))
