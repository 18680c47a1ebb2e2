"""The wizard's steps in order, and which step owns which RunSpec field.

Adding a step is one entry here plus its screen module. Screens are named as "module:Class"
and imported when first shown, so opening the app imports only the first screen.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Step:
    id: str
    title: str
    screen: str
    # Field paths (or section prefixes) edited on this step; errors on them mark the step.
    fields: tuple[str, ...] = ()


STEPS: list[Step] = [
    Step("start", "Start", "ftui.tui.screens.wizard.start:StartScreen"),
    Step("hardware", "Hardware", "ftui.tui.screens.wizard.hardware:HardwareScreen", ("launch",)),
    Step("model", "Model", "ftui.tui.screens.wizard.model:ModelScreen", ("model",)),
    Step("data", "Data", "ftui.tui.screens.wizard.data:DataStepScreen", ("data",)),
    Step(
        "template",
        "Template",
        "ftui.tui.screens.wizard.template:TemplateStepScreen",
        ("template",),
    ),
    Step(
        "method",
        "Method",
        "ftui.tui.screens.wizard.method:MethodScreen",
        ("method", "model.quantization"),
    ),
    Step(
        "training",
        "Training",
        "ftui.tui.screens.wizard.training:TrainingScreen",
        ("train", "model.dtype"),
    ),
    Step(
        "review",
        "Review",
        "ftui.tui.screens.wizard.review:ReviewScreen",
        ("name", "output", "generation"),
    ),
]


def step_ids() -> list[str]:
    return [s.id for s in STEPS]


def get_step(step_id: str) -> Step:
    for step in STEPS:
        if step.id == step_id:
            return step
    raise KeyError(f"no wizard step {step_id!r}; steps: {', '.join(step_ids())}")


def step_for_field(path: str) -> str:
    """The step that edits `path`: the longest matching prefix wins; else Review."""
    best, best_len = "review", -1
    for step in STEPS:
        for prefix in step.fields:
            if (path == prefix or path.startswith(prefix + ".")) and len(prefix) > best_len:
                best, best_len = step.id, len(prefix)
    return best


def screen_class(step_id: str) -> Any:
    module, _, name = get_step(step_id).screen.partition(":")
    return getattr(importlib.import_module(module), name)
