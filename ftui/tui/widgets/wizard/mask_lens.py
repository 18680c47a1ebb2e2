"""The mask lens: exactly which tokens of real rows are trained.

Above: the share of tokens trained, rows with nothing to train, rows cut at max_seq_len, and
a histogram of token lengths with the cut marked and the length that keeps 99% of rows.
Below: one row at a time, trained tokens in green, masked ones dim, EOS shown as ⟨eos⟩;
`t` shows token boundaries, `[`/`]` (or the buttons) step through rows.

    MaskLens()  .loading = True;  .show(lens)  (a core `mask_lens.Lens`);  .fail(message)
    posts MaskLens.MaxLenSuggested(n) when the user takes the suggested max_seq_len.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Button, Checkbox, LoadingIndicator, Static

BLOCKS = " ▁▂▃▄▅▆▇█"
TRAINED = "bold green"
MASKED = "grey50"
SPARK_WIDTH = 48


def token_text(lens_row: Any, boundaries: bool) -> Text:
    """A row's tokens as styled text: trained green, masked dim, specials bold, EOS marked."""
    if lens_row.error:
        return Text(f"cannot render this row: {lens_row.error}", style="bold red")
    runs: list[tuple[str, str]] = []  # (text, style), same-style tokens merged
    piece = -1  # index of the shown piece: tokens joined to the one before share its piece
    for tok in lens_row.tokens:
        text = ("⟨eos⟩" if tok.eos else tok.text).replace("\n", "↵\n")
        if tok.joined and runs:  # the rest of a character split over tokens: no boundary
            runs[-1] = (runs[-1][0] + text, runs[-1][1])
            continue
        piece += 1
        style = TRAINED if tok.trained else MASKED
        if tok.special:
            style += " bold"
        if tok.eos:
            style += " reverse"
        if boundaries:
            style += " underline" if piece % 2 else ""
            if piece:
                runs.append(("│", "dim yellow"))
        if runs and runs[-1][1] == style and not boundaries:
            runs[-1] = (runs[-1][0] + text, style)
        else:
            runs.append((text, style))
    out = Text()
    for text, style in runs:
        out.append(text, style=style)
    if lens_row.truncated:
        out.append(f"\n✂ cut at {lens_row.cut} of {lens_row.length} tokens", style="bold yellow")
    return out


def sparkline(bins: list[Any], cut: int, width: int = SPARK_WIDTH) -> Text:
    """Token-length histogram on one line of block characters; ┃ marks max_seq_len."""
    if not bins:
        return Text("no rows")
    last = max((i for i, b in enumerate(bins) if b.count), default=0)
    shown = bins[
        : max(last + 1, next((i + 1 for i, b in enumerate(bins) if b.lo <= cut < b.hi), 0))
    ]
    shown = shown[:width]
    top = max(b.count for b in shown) or 1
    out = Text("lengths ", style="bold")
    for b in shown:
        level = 0 if not b.count else max(1, round(8 * b.count / top))
        if b.lo <= cut < b.hi:
            out.append("┃", style="bold yellow")
        else:
            char = BLOCKS[level] if level else "·"
            out.append(char, style="dim" if not level else "red" if b.lo > cut else "cyan")
    out.append(f" 0–{shown[-1].hi}", style="dim")
    out.append(f"  ┃ cut {cut}", style="yellow")
    return out


def stats_text(stats: Any, context: int | None = None) -> Text:
    """The counts, then the length that keeps 99% of rows whole (on a line of its own, so it
    is never cut off), capped at the model's `context` length when that is shorter."""
    out = Text()
    out.append(f"{stats.trained_share:.0%}", style=TRAINED)
    out.append(f" of {stats.tokens:,} tokens trained   ")
    style = "bold red" if stats.no_trained else ""
    out.append(f"{stats.no_trained} of {stats.rows} rows have nothing to train", style=style)
    out.append("   ")
    style = "bold yellow" if stats.truncated else ""
    out.append(f"{stats.truncated} cut at max_seq_len {stats.max_seq_len}", style=style)
    whole = stats.suggested_max_len()
    out.append(f"\n99% of rows fit in {whole} tokens", style="bold")
    if context and whole > context:
        out.append(f", above the model's context length {context}: ", style="bold yellow")
        out.append(f"{context} keeps the most")
    elif context:
        out.append(f" (the model's context length is {context})", style="dim")
    return out


class MaskLens(Vertical, can_focus=True):
    BINDINGS = [
        Binding("right_square_bracket,right", "step(1)", "Next row"),
        Binding("left_square_bracket,left", "step(-1)", "Previous row"),
        Binding("t", "toggle_boundaries", "Token boundaries"),
    ]

    @dataclass
    class MaxLenSuggested(Message):
        max_seq_len: int

    index: reactive[int] = reactive(0)
    boundaries: reactive[bool] = reactive(False)
    loading_lens: reactive[bool] = reactive(False)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="mask-lens")
        self.lens: Any = None
        self.context_length: int | None = None  # the model's, set by the screen

    def set_context_length(self, context: int | None) -> None:
        """The model's context length (None: unknown): it caps the suggested max_seq_len."""
        if context != self.context_length:
            self.context_length = context
            self._refresh_all()

    def suggested_max_len(self) -> int:
        return self.lens.stats.suggested_max_len(context=self.context_length) if self.lens else 0

    def compose(self) -> ComposeResult:
        yield LoadingIndicator(id="lens-loading")
        yield Static("", id="lens-stats")
        with Horizontal(id="lens-histogram-line"):
            yield Static("", id="lens-histogram")
            yield Button(
                "max_seq_len",
                id="lens-use-len",
                compact=True,
                tooltip="Set data.max_seq_len to the length that keeps 99% of rows whole",
            )
        with Horizontal(id="lens-nav"):
            yield Button("◀", id="lens-prev", compact=True)
            yield Static("", id="lens-position")
            yield Button("▶", id="lens-next", compact=True)
            yield Checkbox("token boundaries (t)", id="lens-boundaries", compact=True)
            yield Static(
                Text.assemble(("trained", TRAINED), " / ", ("masked", MASKED)), id="lens-legend"
            )
        with VerticalScroll(id="lens-scroll"):
            yield Static("", id="lens-tokens")

    def on_mount(self) -> None:
        self._refresh_all()

    def watch_loading_lens(self, loading: bool) -> None:
        self.set_class(loading, "-loading")

    def show(self, lens: Any) -> None:
        self.lens = lens
        self.loading_lens = False
        self.index = min(self.index, max(0, len(lens.rows) - 1))
        self._refresh_all()

    def fail(self, message: str) -> None:
        self.lens = None
        self.loading_lens = False
        self._refresh_all()
        self.query_one("#lens-stats", Static).update(Text(message, style="bold red"))

    def _refresh_all(self) -> None:
        if not self.query("#lens-stats"):
            return
        lens = self.lens
        has = lens is not None and bool(lens.rows)
        for wid in ("#lens-nav", "#lens-histogram-line", "#lens-scroll"):
            self.query_one(wid).display = has
        if lens is None:
            self.query_one("#lens-stats", Static).update("")
            return
        st = lens.stats
        self.query_one("#lens-stats", Static).update(stats_text(st, self.context_length))
        self.query_one("#lens-histogram", Static).update(
            sparkline(st.histogram(bins=40), st.max_seq_len)
        )
        self.query_one("#lens-use-len", Button).label = f"max_seq_len={self.suggested_max_len()}"
        self._refresh_row()

    def _refresh_row(self) -> None:
        if not self.query("#lens-tokens") or self.lens is None or not self.lens.rows:
            return
        row = self.lens.rows[self.index]
        self.query_one("#lens-position", Static).update(
            f" row {row.index + 1} of {len(self.lens.rows)} · {row.length} tokens, "
            f"{row.trained} trained "
        )
        self.query_one("#lens-tokens", Static).update(token_text(row, self.boundaries))

    def watch_index(self) -> None:
        self._refresh_row()

    def watch_boundaries(self, value: bool) -> None:
        for box in self.query("#lens-boundaries").results(Checkbox):
            box.value = value
        self._refresh_row()

    def action_step(self, delta: int) -> None:
        if self.lens is not None and self.lens.rows:
            self.index = (self.index + delta) % len(self.lens.rows)

    def action_toggle_boundaries(self) -> None:
        self.boundaries = not self.boundaries

    @on(Button.Pressed, "#lens-prev")
    def _prev(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_step(-1)

    @on(Button.Pressed, "#lens-next")
    def _next(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_step(1)

    @on(Button.Pressed, "#lens-use-len")
    def _use_len(self, event: Button.Pressed) -> None:
        event.stop()
        if self.lens is not None:
            self.post_message(self.MaxLenSuggested(self.suggested_max_len()))

    @on(Checkbox.Changed, "#lens-boundaries")
    def _boundaries(self, event: Checkbox.Changed) -> None:
        event.stop()
        self.boundaries = event.value
