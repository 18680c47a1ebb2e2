"""Hostile input through the real command line: every one ends in one line naming the file and
the fix, exit status 2, never a traceback (issue 17, items 8-12). The bounds themselves are
tested in tests/core (test_hostile_data.py, test_bounded_templates.py, test_runs.py);
bench/protect/hostile.py runs the full set of 39 with time and memory limits."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_ftui


def _clean_refusal(out, *needles: str) -> None:  # type: ignore[no-untyped-def]
    assert out.returncode == 2, (out.returncode, out.stdout, out.stderr)
    assert "Traceback" not in out.stderr, out.stderr
    errors = [ln for ln in out.stderr.splitlines() if ln.startswith("error: ")]
    assert errors, out.stderr
    for needle in needles:
        assert needle in errors[0], errors[0]


def test_export_and_chat_of_a_run_with_an_invalid_config_say_which_file(tmp_path: Path) -> None:
    from ftui.core.playground.export import ExportError, export_run
    from ftui.core.playground.inference import InferenceError, load_chat_model

    run = tmp_path / "run-1"
    run.mkdir()
    config = run / "config.yaml"
    (run / "run.json").write_text("{}")
    for text, why in (
        ("name: x\nmodel: [unclosed\n", "not valid YAML"),
        ("name: x\ntrain: {epochs: -1}\n", "train.epochs"),
    ):
        config.write_text(text)
        for call, error in (
            (lambda: export_run(run, tmp_path / "out"), ExportError),
            (lambda: load_chat_model(run), InferenceError),
        ):
            with pytest.raises(error) as err:
                call()
            assert str(config) in str(err.value) and why in str(err.value), str(err.value)
            assert "fix or restore that file" in str(err.value)
    out = run_ftui("export", str(run), "--out", str(tmp_path / "out"))
    _clean_refusal(out, str(config), "train.epochs")


def test_a_spec_that_is_a_device_a_fifo_huge_or_not_utf8_is_refused(tmp_path: Path) -> None:
    import os

    from ftui.core.presets import resolve_spec
    from ftui.core.spec import SpecError, load_spec_file

    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    huge = tmp_path / "huge.yaml"
    with open(huge, "wb") as fh:
        fh.truncate(1 << 30)  # sparse
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b"name: caf\xe9\n")
    for path, why in (
        ("/dev/zero", "not a regular file"),
        (str(fifo), "not a regular file"),
        (str(huge), "1073741824 bytes is not a spec"),
        (str(latin), "not UTF-8 at byte 9"),
    ):
        for load in (resolve_spec, load_spec_file):
            with pytest.raises(SpecError) as err:
                load(path)
            assert err.value.problems[0].startswith(f"{path}: {why}"), err.value.problems
