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


def test_parameter_counts_have_one_formatter_three_significant_figures():
    from ftui.core.units import human_count

    assert human_count(180_544) == "181K"
    assert human_count(32_768) == "32.8K"
    assert human_count(134_515_008) == "135M"
    assert human_count(1_711_376_384) == "1.71B"
    assert human_count(999_999) == "1M"  # rounded before the unit is chosen
    assert human_count(950) == "950" and human_count(None) == "unknown"


def test_the_demo_models_count_reads_the_same_everywhere():
    """The Hardware notice, `ftui gpus`, the README and the preset say the number the Model
    step counts on the built model."""
    from pathlib import Path

    from ftui.core.demo import DEMO_MODEL_REF, DEMO_PARAMS
    from ftui.core.hardware import CPU_NOTICE
    from ftui.core.model.facts import inspect_model
    from ftui.core.units import human_count

    assert inspect_model(DEMO_MODEL_REF).num_params == DEMO_PARAMS
    shown = human_count(DEMO_PARAMS)
    assert f"builtin:demo-tiny-llama, {shown} parameters" in CPU_NOTICE
    root = Path(__file__).resolve().parents[2]
    readme = " ".join((root / "README.md").read_text().split())
    assert f"randomly initialised Llama of {shown} parameters" in readme
    assert f"({shown} parameters," in (root / "presets" / "demo.yaml").read_text()
