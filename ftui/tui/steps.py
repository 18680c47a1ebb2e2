"""The wizard's steps in order, and which step owns which RunSpec field.

Adding a step is one entry here, its screen module (a StepScreen with that STEP_ID) and that
screen in screens/wizard/step_screens.py. The screens import this module (for titles and
fields), so it names no screen.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    id: str
    title: str
    # Field paths (or section prefixes) edited on this step; errors on them mark the step.
    fields: tuple[str, ...] = ()


STEPS: list[Step] = [
    Step("start", "Start"),
    Step("hardware", "Hardware", ("launch",)),
    Step("model", "Model", ("model",)),
    Step("data", "Data", ("data",)),
    Step("template", "Template", ("template",)),
    Step("method", "Method", ("method", "model.quantization")),
    Step("training", "Training", ("train", "model.dtype")),
    Step("review", "Review", ("name", "output", "generation")),
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
