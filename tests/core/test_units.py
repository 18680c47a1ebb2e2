"""One byte formatter: binary units named as such, the unit chosen by size unless fixed."""

from __future__ import annotations

from ftui.core.units import GiB, KiB, MiB, human_bytes


def test_the_unit_follows_the_size():
    assert human_bytes(0) == "0 B"
    assert human_bytes(512) == "512 B"
    assert human_bytes(1536) == "1.5 KiB"
    assert human_bytes(88 * MiB) == "88.0 MiB"
    assert human_bytes(1.5 * GiB) == "1.5 GiB"
    assert human_bytes(3 * 2**40) == "3.0 TiB"
    assert human_bytes(GiB - KiB) == "1024.0 MiB"  # just under a GiB stays in MiB


def test_a_fixed_unit_and_digits_for_figures_read_side_by_side():
    assert human_bytes(0.51 * GiB, 2, "GiB") == "0.51 GiB"
    assert human_bytes(79.5 * GiB, 2, "GiB") == "79.50 GiB"
    assert human_bytes(300, unit="B") == "300 B"
