"""Review: the YAML that will be written, the exact torchrun command, what is still wrong;
save as preset (ctrl+s), Launch (ctrl+l), which runs preflight first, and Add to queue
(ctrl+u: `ftui queue run` launches it when its turn comes); ctrl+o: the notification
services (`ftui notify`)."""

from __future__ import annotations

from pathlib import Path

from rich.syntax import Syntax
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, LoadingIndicator, ProgressBar, Static

from ftui.core.runs.rundir import IN_RUN
from ftui.core.spec import RunSpec
from ftui.tui.draft import Validation, named
from ftui.tui.loaded import Loaded
from ftui.tui.screens.wizard.base import StepScreen
from ftui.tui.steps import get_step, step_for_field
from ftui.tui.widgets.wizard.spec_form import SpecForm

FIELDS = ["name", "output.root"]  # the template has its own step


def problems_text(validation: Validation) -> Text:
    text = Text()
    for path, lines in validation.errors.items():
        for line in lines:
            text.append(f"✗ [{get_step(step_for_field(path)).title}] ", style="bold red")
            text.append(line + "\n")
    return text


class ReviewScreen(StepScreen):
    STEP_ID = "review"
    # Short labels: every key, Quit and the palette's included, fits a 120-column footer
    # (the Keys panel, ctrl+\\, has the long descriptions). The last step has no next one.
    BINDINGS = [
        Binding("ctrl+l", "app.launch", "Launch", priority=True),
        Binding("ctrl+t", "app.check", "Check", priority=True),
        Binding("ctrl+b", "slurm", "Slurm", tooltip="Write a Slurm sbatch script", priority=True),
        Binding(
            "ctrl+u", "queue", "Queue", tooltip="Add this spec to the run queue", priority=True
        ),
        Binding(
            "ctrl+o",
            "notifications",
            "Notify",
            tooltip="Where a run's end or stall is notified",
            priority=True,
        ),
        Binding("ctrl+n", "app.next_step", "Next step", show=False, priority=True),
    ]

    def compose_body(self) -> ComposeResult:
        yield Static("", id="problems")
        yield SpecForm(FIELDS, self.values(FIELDS), full_labels=True)
        with Horizontal(id="actions"):
            yield Button("Save preset  ctrl+s", id="save")
            yield Button("Check  ctrl+t", id="check")
            yield Button("Launch  ctrl+l", id="launch", variant="success")
            yield Button("Slurm script  ctrl+b", id="slurm")
            yield Button("Queue  ctrl+u", id="queue")
        yield Static("", id="slurm-status")
        yield LoadingIndicator(id="launch-loading")
        yield ProgressBar(id="download", show_eta=True)
        yield Static("", id="launch-status")
        yield Static("Command", classes="section-title")
        yield Static("", id="command")
        yield Static(str(IN_RUN.config), classes="section-title")
        yield Static("", id="yaml")

    def on_mount(self) -> None:
        self.watch(self.app, "launch_state", self._launch_state_changed)
        self.watch(self.app, "download", self._download_changed)

    def _download_changed(self, download: tuple[int, int] | None) -> None:
        bar = self.query_one("#download", ProgressBar)
        bar.display = download is not None
        if download is not None:
            bar.update(total=max(download[1], 1), progress=download[0])

    def validation_changed(self, validation: Validation) -> None:
        problems = self.query_one("#problems", Static)
        problems.update(problems_text(validation))
        problems.display = not validation.ok
        self.query_one("#launch", Button).disabled = not validation.ok
        self.query_one("#queue", Button).disabled = not validation.ok
        spec = validation.spec
        if spec is None:
            self.query_one("#yaml", Static).update("(fix the marked fields to see the YAML)")
            self.query_one("#command", Static).update("")
            return
        self.query_one("#yaml", Static).update(Syntax(spec.to_yaml(), "yaml", theme="ansi_dark"))
        self.query_one("#command", Static).update(self._command(spec))

    def _command(self, spec: RunSpec) -> Text:
        """What the launcher will run (the run dir's timestamp is only known at launch); for a
        multi-node run every node's command, this machine's marked: Launch runs that one."""
        from ftui.core.launch.torchrun import display_command, resolve_nproc, torchrun_argv

        report = self.wizard.hardware.value
        nproc = resolve_nproc(spec, cuda_count=len(report.gpus) if report else 0)
        config = f"{spec.output.root}/{spec.name}-<timestamp>/{IN_RUN.config}"
        if spec.launch.nnodes > 1:
            return self._node_commands(spec, config, nproc)
        argv = torchrun_argv(spec, config, nproc_per_node=nproc)
        gpus = spec.launch.gpus
        prefix = f"CUDA_VISIBLE_DEVICES={','.join(map(str, gpus))} " if gpus else ""
        return Text(prefix + display_command(argv), style="bold")

    def _node_commands(self, spec: RunSpec, config: str, nproc: int) -> Text:
        from ftui.core.launch.cluster import node_commands

        try:
            commands = node_commands(spec, config, spec.launch.nnodes, None, nproc_per_node=nproc)
        except ValueError as exc:
            return Text(str(exc), style="red")
        here = spec.launch.node_rank
        text = Text()
        for cmd in commands:
            host = " (hosts the rendezvous)" if cmd.node_rank == 0 else ""
            if cmd.node_rank == here:
                text.append(
                    f"# node {cmd.node_rank}{host}: this machine, Launch runs it\n", "green"
                )
                text.append(cmd.display() + "\n", style="bold")
            else:
                text.append(f"# node {cmd.node_rank}{host}: run on that machine\n", "dim")
                text.append(cmd.display() + "\n")
        for hint in commands[0].hints:
            text.append(f"# {hint}\n", style="dim")
        preset = self.wizard.preset_name
        if preset is None or not self._saved_as(preset, spec):
            text.append("# save this setup as a preset (ctrl+s) to run it on the other nodes:\n")
            preset = "PRESET"
        text.append(
            "# every node needs the config: on node N, "
            f"`ftui run {preset} --set launch.node_rank=N` writes it and runs that node's part; "
            f"as one Slurm job: `ftui command {preset} --slurm`",
            style="dim",
        )
        return text

    @staticmethod
    def _saved_as(preset: str, spec: RunSpec) -> bool:
        """Whether the preset on disk is this spec (other nodes run the preset, not the draft)."""
        from ftui.core.presets import resolve_spec

        try:
            saved = resolve_spec(preset)
        except Exception:
            return False
        return saved.to_yaml() == spec.to_yaml()

    def _launch_state_changed(self, state: Loaded) -> None:
        self.query_one("#launch-loading").display = state.loading
        status = self.query_one("#launch-status", Static)
        text = Text()
        if state.error:
            text.append(state.error + "\n", style="bold red")
        report = state.value
        for field, message in getattr(report, "errors", []) or []:
            text.append(f"✗ {named(field, message)}\n", style="red")
        for warning in getattr(report, "warnings", []) or []:
            field, message = warning if isinstance(warning, tuple) else ("", warning)
            text.append(f"! {named(field, message)}\n", style="yellow")
        if isinstance(report, str):
            text.append(report, style="dim")
        elif isinstance(report, Path):
            text.append(f"Run started: {report}", style="bold green")
        elif getattr(report, "ok", False) and not state.loading:
            text.append("Preflight passed: ctrl+l launches.", style="green")
        elif getattr(report, "ok", False):
            text.append("Preflight passed; fetching the model and launching…", style="dim")
        status.update(text)

    @on(Button.Pressed, "#slurm")
    def action_slurm(self) -> None:
        """The spec as an sbatch script, for a cluster this machine only submits to."""
        from ftui.tui.screens.dialogs.slurm import SlurmDialog

        spec = self.wizard.spec
        if spec is None:
            self.wizard.refuse(
                self.wizard.validation.all_errors(), self.wizard.validation.first_error_field()
            )
            return
        report = self.wizard.hardware.value
        self.app.push_screen(SlurmDialog(spec, len(report.gpus) if report else 0), self._written)

    def _written(self, path: Path | None) -> None:
        if path is not None:
            self._say(Text(f"Wrote {path}: submit it with `sbatch {path}`", style="green"))

    def _say(self, text: Text) -> None:
        status = self.query_one("#slurm-status", Static)
        status.update(text)
        status.display = True

    def action_notifications(self) -> None:
        """Where a detached run's supervisor sends its notifications (`ftui notify`)."""
        from ftui.tui.screens.dialogs.notify import NotifyDialog

        self.app.push_screen(NotifyDialog())

    @on(Button.Pressed, "#queue")
    def action_queue(self) -> None:
        """Queue the spec for `ftui queue run` (a small locked write to the queue file)."""
        from ftui.core.launch import queue

        spec = self.wizard.spec
        if spec is None:
            self.wizard.refuse(
                self.wizard.validation.all_errors(), self.wizard.validation.first_error_field()
            )
            return
        try:
            entry = queue.add(spec, f"{self.wizard.preset_name or spec.name} (from the wizard)")
        except (OSError, queue.QueueError) as exc:
            self._say(Text(f"Not queued: {exc}", style="bold red"))
            return
        self._say(
            Text(
                f"Queued #{entry.id} {spec.name}: `ftui queue run --detach` runs the queue, "
                "`ftui queue list` shows it",
                style="green",
            )
        )

    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        self.wizard.action_save_preset()

    @on(Button.Pressed, "#check")
    def _check(self) -> None:
        self.wizard.action_check()

    @on(Button.Pressed, "#launch")
    def _launch(self) -> None:
        self.wizard.action_launch()
