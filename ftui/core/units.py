"""Byte and parameter counts for people: one formatter each, so a size or a model's parameter
count reads the same in every screen, command and document.

Binary units throughout (KiB = 1024 B), named as such: memory, disk and downloads are compared
with each other, and a "GB" that means 2**30 in one place and 10**9 in another misleads.
"""

from __future__ import annotations

from typing import Literal

KiB, MiB, GiB, TiB = 2**10, 2**20, 2**30, 2**40
SCALES: dict[str, int] = {"TiB": TiB, "GiB": GiB, "MiB": MiB, "KiB": KiB, "B": 1}


Unit = Literal["TiB", "GiB", "MiB", "KiB", "B"]


def human_bytes(n: float, digits: int = 1, unit: Unit | None = None) -> str:
    """`1.5 GiB`, `88.0 MiB`, `512 B`: the largest unit that keeps the figure at 1 or more.

    `unit` fixes the unit (`"GiB"`) where figures sit side by side and are read against each
    other (an estimate against the free memory); bytes are always whole.
    """
    if unit is None:
        name = next((name for name, scale in SCALES.items() if abs(n) >= scale), "B")
    else:
        name = unit
    if name == "B":
        return f"{n:.0f} B"
    return f"{n / SCALES[name]:.{digits}f} {name}"


COUNT_SCALES = (("B", 10**9), ("M", 10**6), ("K", 10**3))


def human_count(n: int | None) -> str:
    """A parameter count to three significant figures: `181K`, `14.6K`, `135M`, `1.71B`, `950`
    (decimal units, as model sizes are named); None is `unknown`."""
    if n is None:
        return "unknown"
    rounded = float(f"{n:.3g}")  # first, so 999,999 reads 1M (not 1000K)
    for name, scale in COUNT_SCALES:
        if abs(rounded) >= scale:
            value = rounded / scale
            return f"{value:.3g}{name}" if value < 1000 else f"{value:.0f}{name}"
    return str(n)
