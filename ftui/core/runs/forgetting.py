"""The forgetting meter: the loss on a small general-text sample with the base model and with
the fine-tuned one. A fine-tune that only learned its data leaves it near the base's; a rise
says the model is losing ordinary language ("general ability"), which its own eval loss
cannot show. The sample ships with ftui: public-domain prose (`GENERAL_TEXT_SOURCE` names it).

Rank 0 measures it at the end of training (`ftui.train.forgetting`) and writes a `forgetting`
event and the run's forgetting.json; this module reads and words it, torch-free.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ftui.core import locations
from ftui.core.runs.rundir import RunPaths, read_json_object

GENERAL_TEXT = "general_text.txt"
GENERAL_TEXT_SOURCE = "general_text.SOURCE.md"  # where it comes from and its licence
SAMPLE_NAME = "public-domain prose (Austen, Carroll, Dickens, Lincoln, Melville, Wells)"
WARN_RISE = 0.10  # a rise of more than 10% in general-text loss gets the warning
REMEDIES = (
    "lower train.learning_rate, fewer train.epochs, mix general data into the training data, "
    "or a smaller method.lora.r"
)


def general_text_path() -> Path:
    return locations.package_data_dir() / GENERAL_TEXT


def general_text() -> str:
    return general_text_path().read_text(encoding="utf-8")


@dataclass(frozen=True)
class Forgetting:
    """The meter's reading: mean token loss (nats) of base and tuned on the same tokens."""

    base_loss: float
    tuned_loss: float
    tokens: int

    @property
    def change(self) -> float:
        """Relative change of the tuned loss against the base's (+0.031 is 3.1% higher)."""
        return (self.tuned_loss - self.base_loss) / self.base_loss if self.base_loss else 0.0

    @property
    def warns(self) -> bool:
        return self.change > WARN_RISE

    def record(self) -> dict[str, Any]:
        """The `forgetting` event's (and forgetting.json's) fields."""
        return {
            "base_loss": round(self.base_loss, 4),
            "tuned_loss": round(self.tuned_loss, 4),
            "change": round(self.change, 4),
            "tokens": self.tokens,
            "sample": SAMPLE_NAME,
            "warn_above": WARN_RISE,
        }


def from_record(data: dict[str, Any]) -> Forgetting | None:
    """A Forgetting from an event or forgetting.json; None when it holds no whole reading."""
    base, tuned, tokens = data.get("base_loss"), data.get("tuned_loss"), data.get("tokens")
    if not (isinstance(base, (int, float)) and isinstance(tuned, (int, float))):
        return None
    if not (math.isfinite(base) and math.isfinite(tuned)):
        return None
    return Forgetting(float(base), float(tuned), tokens if isinstance(tokens, int) else 0)


def read_forgetting(run_dir: str | Path) -> Forgetting | None:
    return from_record(read_json_object(RunPaths(Path(run_dir)).forgetting))


def summary_line(f: Forgetting) -> str:
    """e.g. "general-text loss +3.1% (base 2.84 → 2.93)"."""
    return f"general-text loss {f.change:+.1%} (base {f.base_loss:.2f} → {f.tuned_loss:.2f})"


def warning_line(f: Forgetting) -> str | None:
    if not f.warns:
        return None
    return (
        f"general-text loss rose {f.change:.0%} (over {WARN_RISE:.0%}): the model may be "
        f"forgetting general language; {REMEDIES}"
    )
