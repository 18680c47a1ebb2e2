"""Write the wizard's spec as an sbatch script (ftui.core.launch.cluster.slurm_script): nodes, GPUs per
node, and the optional partition, time limit and account; enter writes, escape cancels.

The same script as `ftui command SPEC --slurm`: the spec travels inside it, so the compute
nodes need no preset and no copy of this machine's files.
"""

from __future__ import annotations

import sys
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from ftui.core.spec import RunSpec

FIELDS = [
    ("nodes", "nodes"),
    ("gpus", "GPUs per node"),
    ("partition", "partition (optional)"),
    ("time", "time limit, e.g. 12:00:00 (optional)"),
    ("account", "account (optional)"),
    ("path", "write to"),
]


def default_gpus(spec: RunSpec, local_gpus: int) -> int | None:
    """GPUs per compute node as the spec says it, else as many as this machine has."""
    if isinstance(spec.launch.nproc_per_node, int):
        return spec.launch.nproc_per_node
    if spec.launch.gpus is not None:
        return len(spec.launch.gpus)
    return local_gpus or None


class SlurmDialog(ModalScreen[Path | None]):
    """Dismisses with the written script's path (None when cancelled)."""

    BINDINGS = [Binding("escape", "dismiss_none", "Cancel")]

    def __init__(self, spec: RunSpec, local_gpus: int) -> None:
        super().__init__(id="slurm-dialog")
        self.spec = spec
        gpus = default_gpus(spec, local_gpus)
        self.defaults = {
            "nodes": str(spec.launch.nnodes),
            "gpus": "" if gpus is None else str(gpus),
            "partition": "",
            "time": "",
            "account": "",
            "path": f"{spec.name}.sbatch",
        }

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("Write a Slurm batch script", classes="section-title")
            for key, label in FIELDS:
                with Horizontal(classes="field-line"):
                    yield Label(label, classes="field-label")
                    yield Input(
                        self.defaults[key], id=f"slurm-{key}", classes="field-input", compact=True
                    )
            yield Static(
                "The spec travels inside the script. enter writes · escape cancels",
                classes="field-help",
            )
            yield Static("", id="slurm-error", classes="field-error")

    def action_dismiss_none(self) -> None:
        self.dismiss(None)

    def value(self, key: str) -> str:
        return self.query_one(f"#slurm-{key}", Input).value.strip()

    def _number(self, key: str, what: str) -> int:
        text = self.value(key)
        if not text.isdigit() or int(text) < 1:
            raise ValueError(f"{what}: expected a whole number of at least 1, got {text!r}")
        return int(text)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        from ftui.core.atomic import atomic_write_text
        from ftui.core.launch.cluster import default_slurm_config_path, slurm_script

        try:
            nodes = self._number("nodes", "nodes")
            gpus = self._number("gpus", "GPUs per node")
            if not self.value("path"):
                raise ValueError("write to: give a file name, e.g. run.sbatch")
            path = Path(self.value("path")).expanduser()
            script = slurm_script(
                self.spec,
                default_slurm_config_path(self.spec),
                nodes,
                gpus,
                python=sys.executable,
                partition=self.value("partition") or None,
                time_limit=self.value("time") or None,
                account=self.value("account") or None,
                script_path=str(path),
            )
            atomic_write_text(path, script, mode=0o700)  # executable, and only the user's
        except (ValueError, OSError) as exc:
            self.query_one("#slurm-error", Static).update(str(exc))
            return
        self.dismiss(path.resolve())
