"""The live monitor of one run. It only reads the run directory: leaving it never stops training.

A timer starts a thread worker that polls a core RunWatcher (incremental reads) and posts
`Polled`; the handler folds the events into a RunHistory and hands it down to the widgets.
`v` toggles the split view: every rank's log side by side, `l` pages through the ranks.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, ProgressBar, Static
from textual.worker import Worker, WorkerState

from ftui.core.runs.eval_card import eval_card_lines
from ftui.core.runs.events import TERMINAL_STATUSES, to_float
from ftui.core.runs.failures import Failure
from ftui.core.runs.metrics import RunHistory, format_duration, format_value
from ftui.core.runs.notify import run_event_message
from ftui.core.runs.split_logs import split_columns
from ftui.core.runs.status import RunInfo
from ftui.core.runs.watch import RunWatcher, WatchUpdate
from ftui.tui.widgets.monitor.charts import LossChart, MetricChart
from ftui.tui.widgets.monitor.log_view import LogView
from ftui.tui.widgets.monitor.run_actions import RunActions
from ftui.tui.widgets.monitor.split_log_view import SplitLogView
from ftui.tui.widgets.wizard.gpu_panel import GpuPanel, HostSample

POLL_S = 0.5
CARD_EVENTS = ("plan", "eval", "checkpoint", "forgetting", "final")  # what changes the card
NOTIFY_STATUSES = ("completed", "failed")


class MonitorScreen(Screen):
    CSS_PATH = "../styles/monitor.tcss"
    # s, r and q show in the footer only where they apply (check_action); on a finished run s
    # and r still answer why not, through their hidden twins.
    BINDINGS = [
        Binding("s", "stop", "Stop (again: kill)"),
        Binding("s", "stop_finished", show=False),
        Binding("r", "resume", "Resume"),
        Binding("r", "resume_refused", show=False),
        Binding("e", "edit_setting", "Fix setting"),
        Binding("l", "next_log", "Next log", show=False),  # the log title says so
        Binding("l", "next_ranks", "Next ranks", show=False),
        Binding("v", "split_logs", "Split logs"),
        Binding("v", "single_log", "Single log"),
        Binding("c", "chat", "Chat with it"),
        Binding("q,escape", "leave", "Leave (training goes on)"),
        Binding("q,escape", "leave_finished", "Leave"),
    ]

    @dataclass
    class Polled(Message):
        """What one poll of the run directory found."""

        update: WatchUpdate

    @dataclass
    class MetricsArrived(Message):
        """New points for the charts; a burst coalesces into one redraw."""

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, MonitorScreen.MetricsArrived)

    @dataclass
    class EditSettingRequested(Message):
        """Ask the app to open the wizard on this RunSpec field (e.g. train.learning_rate)."""

        setting: str
        run_dir: Path

    def __init__(
        self,
        run_dir: str | Path,
        gpu_sampler: Callable[[], HostSample] | None = None,
        stall_after_s: float = 600.0,
    ) -> None:
        super().__init__()
        self.run_dir = Path(run_dir)
        self.watcher = RunWatcher(self.run_dir, stall_after_s=stall_after_s)
        self.history = RunHistory()
        self.info: RunInfo | None = None
        self.failure: Failure | None = None
        self.stalled = False
        self._gpu_sampler = gpu_sampler
        self._polling = False
        self._log_path: Path | None = None
        self.split = False  # every rank's log side by side instead of one log
        self._split_page = 0

    def compose(self) -> ComposeResult:
        yield Static(self.run_dir.name, id="run-title")
        with Horizontal(id="progress-row"):
            yield ProgressBar(show_eta=False, id="progress")
            yield Static("", id="progress-text")
        yield Static("", id="failure")
        yield Static("", id="eval-card")
        with Horizontal(id="main"):
            with Vertical(id="charts"):
                yield LossChart(id="loss-chart")
                with Horizontal(id="small-charts"):
                    yield MetricChart("lr", "lr", "green", classes="small-chart")
                    yield MetricChart("grad_norm", "grad norm", "magenta", classes="small-chart")
                    yield MetricChart("tokens_per_s", "tokens/s", "blue", classes="small-chart")
            with Vertical(id="side"):
                yield GpuPanel(self._gpu_sampler, id="gpus")
                yield Static("no samples yet", id="samples")
        yield LogView(id="logs")
        yield SplitLogView(id="split-logs")
        yield RunActions(self.run_dir)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#samples", Static).border_title = "samples"
        self.query_one("#eval-card", Static).border_title = "eval card"
        self._tick()
        self.set_interval(POLL_S, self._tick)

    def _tick(self) -> None:
        if not self._polling:
            self._polling = True
            self._poll()

    @work(thread=True, exit_on_error=False, group="monitor-poll")
    def _poll(self) -> None:
        self.post_message(self.Polled(self.watcher.poll()))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "monitor-poll" and event.state in (
            WorkerState.SUCCESS,
            WorkerState.ERROR,
            WorkerState.CANCELLED,
        ):
            self._polling = False

    @on(Polled)
    def _polled(self, message: Polled) -> None:
        update = message.update
        previous, was_stalled = self.info, self.stalled
        self.history.add(update.events)
        self.info, self.failure, self.stalled = update.info, update.failure, update.stalled
        self.query_one(RunActions).info = update.info
        if update.split is not None:
            if self.split:  # else a poll from before the toggle: its columns are not wanted
                self.query_one(SplitLogView).show(update.split)
                self._split_page = update.split.page.index
        elif update.log_path is not None:
            logs = self.query_one(LogView)
            if update.log_reset:
                logs.show_log(update.log_path, update.log_lines)
            else:
                logs.append(update.log_lines)
            self._log_path = update.log_path
        if _footer_state(previous) != _footer_state(update.info):
            self.refresh_bindings()
        self._show_status()
        self._show_progress()
        self._show_failure()
        if any(e.get("type") in CARD_EVENTS for e in update.events):
            self._show_eval_card()
        if update.events:
            self._show_samples()
            self.post_message(self.MetricsArrived())
        self._announce(previous, was_stalled)

    @on(MetricsArrived)
    def _redraw_charts(self) -> None:
        for chart in self.query(MetricChart):
            chart.show(self.history)

    def _show_status(self) -> None:
        info = self.info
        if info is None:
            return
        text = f"{info.name}  ● {info.status}"
        if info.live:  # a final status while processes live: they are saving and exiting
            text += "  (processes exiting)" if info.status in TERMINAL_STATUSES else "  (live)"
        if self.stalled:
            text += "  STALLED: no new step for a while"
        if info.reason:
            text += f"  — {info.reason}"
        if info.resumable:
            text += "  [r: resume]"
        title = self.query_one("#run-title", Static)
        title.update(text)
        title.set_classes(f"status-{info.status}")

    def _show_progress(self) -> None:
        live = bool(self.info and self.info.live)
        progress = self.history.progress(now=time.time(), live=live)
        bar = self.query_one("#progress", ProgressBar)
        bar.update(total=progress.total, progress=progress.step)
        total = str(progress.total) if progress.total else "?"
        loss = format_value(to_float(self.history.last_metrics.get("loss")))
        parts = [
            f"step {progress.step}/{total}",
            f"epoch {format_value(progress.epoch, 3)}",
            f"elapsed {format_duration(progress.elapsed_s)}",
            f"ETA {format_duration(progress.eta_s)}",
            f"loss {loss}",
        ]
        self.query_one("#progress-text", Static).update(" · ".join(parts))

    def _show_failure(self) -> None:
        panel = self.query_one("#failure", Static)
        failure = self.failure
        panel.display = failure is not None
        if failure is not None:
            key = f"\n[e: open the wizard on {failure.setting}]" if failure.setting else ""
            panel.update(f"{failure.message}\nFix: {failure.hint}{key}")

    def _show_eval_card(self) -> None:
        """Eval loss and perplexity from step 0, the best checkpoint, the forgetting meter."""
        lines = eval_card_lines(self.run_dir, self.history)
        card = self.query_one("#eval-card", Static)
        card.display = bool(lines)
        card.update("\n".join(lines))
        card.set_class(any(line.startswith("warning:") for line in lines), "-warning")

    def _show_samples(self) -> None:
        if not self.history.samples:
            return
        lines = []
        for sample in list(self.history.samples)[-3:]:
            lines.append(f"step {sample.get('step', '?')} › {sample.get('prompt', '')}")
            lines.append(f"  {str(sample.get('output', '')).strip()}")
        self.query_one("#samples", Static).update("\n".join(lines))

    def _announce(self, previous: RunInfo | None, was_stalled: bool) -> None:
        """Bell and desktop notification when a run watched here completes, fails or stalls."""
        info = self.info
        if info is None:
            return
        if previous is not None and previous.status != info.status:
            if info.status in NOTIFY_STATUSES:
                self._notify_run(info.status, info.reason)
        elif self.stalled and not was_stalled:
            self._notify_run("stalled", f"no new step for {self.watcher.stall_after_s:.0f} s")

    def _notify_run(self, status: str, why: str) -> None:
        """Terminal bell, a toast, and a desktop notification where one is available."""
        title, body, urgency = run_event_message(self.run_dir.name, status, why)
        self.app.bell()
        self.notify(body, title=title, severity="information" if status == "completed" else "error")
        self.query_one(RunActions).notify_desktop(title, body, urgency)

    @on(RunActions.Told)
    def _told(self, message: RunActions.Told) -> None:
        self.notify(message.text, severity=message.severity)

    def action_stop(self) -> None:
        """s: ask the run to checkpoint and stop; s again kills it."""
        self.query_one(RunActions).stop()

    def action_stop_finished(self) -> None:
        self.query_one(RunActions).stop()  # says there is nothing to stop

    def action_resume(self) -> None:
        self.query_one(RunActions).resume()

    def action_resume_refused(self) -> None:
        self.query_one(RunActions).resume()  # says why not, as `ftui resume` does

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """`l` and `v` do one thing in the single-log view and another in the split view; Stop,
        Resume and "training goes on" are offered only where they apply."""
        if action in ("next_log", "split_logs"):
            return not self.split
        if action in ("next_ranks", "single_log"):
            return self.split
        live, stoppable, resumable = _footer_state(self.info)
        pairs = {"stop": stoppable, "resume": resumable, "leave": live}
        if action in pairs:
            return pairs[action]
        if action.endswith(("_finished", "_refused")):
            return not pairs[action.rsplit("_", 1)[0]]
        return True

    def action_split_logs(self) -> None:
        self._set_split(True)

    def action_single_log(self) -> None:
        self._set_split(False)

    def action_next_ranks(self) -> None:
        self._split_page += 1
        self._ask_split()
        self._tick()

    def on_resize(self) -> None:
        if self.split:
            self._ask_split()

    def _set_split(self, split: bool) -> None:
        self.split = split
        self.set_class(split, "-split")
        if split:
            self._split_page = 0
            self._ask_split()
        else:
            self.watcher.show_single()
        self.refresh_bindings()
        self._tick()

    def _ask_split(self) -> None:
        self.watcher.show_split(self._split_page, split_columns(self.size.width))

    def action_next_log(self) -> None:
        path = self.watcher.next_log(self._log_path)
        if path is not None:
            self.watcher.choose_log(path)
            self._tick()

    def action_edit_setting(self) -> None:
        if self.failure is None or not self.failure.setting:
            self.notify("Nothing to fix here: the run has no recognised failure.")
            return
        self.post_message(self.EditSettingRequested(self.failure.setting, self.run_dir))

    def action_chat(self) -> None:
        """Open the playground on this run (final/, or its newest complete checkpoint)."""
        from ftui.core.runs.checkpoints import WeightsNotReady, run_weights

        try:
            weights = run_weights(self.run_dir, newest_if_unfinished=True)
        except WeightsNotReady as exc:
            self.notify(str(exc), severity="warning")
            return
        if weights is None:
            self.notify("Nothing to chat with yet: no final model and no complete checkpoint.")
            return
        from ftui.tui.screens.playground import PlaygroundScreen

        self.app.push_screen(PlaygroundScreen(self.run_dir))

    def action_leave_finished(self) -> None:
        self.action_leave()

    def action_leave(self) -> None:
        """Leave the monitor; training goes on (it is its own process tree)."""
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()
        else:
            self.app.exit()


def _footer_state(info: RunInfo | None) -> tuple[bool, bool, bool]:
    """(live, stoppable, resumable): what the footer offers for this run."""
    if info is None:
        return False, False, False
    return info.live, info.live or bool(info.leftover_pids), info.resumable
