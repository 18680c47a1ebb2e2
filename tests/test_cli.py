"""The command line on bad input: a clear message, a non-zero exit, no traceback, no run dir."""

from __future__ import annotations

from conftest import run_ftui


def _no_run_dir(tmp_path):
    return not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_unknown_key_in_set(tmp_path):
    r = run_ftui("run", "demo", "--set", "train.lerning_rate=1", cwd=tmp_path)
    assert r.returncode == 2
    assert "train.lerning_rate: unknown key" in r.stderr and "Traceback" not in r.stderr
    assert _no_run_dir(tmp_path)


def test_wrong_type_in_yaml(tmp_path):
    spec = tmp_path / "bad.yaml"
    spec.write_text("name: x\ntrain:\n  learning_rate: fast\n")
    r = run_ftui("validate", str(spec), cwd=tmp_path)
    assert r.returncode == 2
    assert "train.learning_rate: expected a positive number, got 'fast'" in r.stderr
    r = run_ftui("run", str(spec), cwd=tmp_path)
    assert r.returncode == 2 and _no_run_dir(tmp_path)


def test_validate_demo_ok(tmp_path):
    r = run_ftui("validate", "demo", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "ok: demo: 100 rows" in r.stdout


def test_presets_show_prints_yaml():
    r = run_ftui("presets", "show", "llama31-8b-lora-xsum")
    assert r.returncode == 0 and "EdinburghNLP/xsum" in r.stdout


def test_command_prints_the_torchrun_argv(tmp_path):
    r = run_ftui("command", "demo", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "torch.distributed.run --standalone --nproc-per-node=2 -m ftui.train" in r.stdout
    assert not (tmp_path / "runs").exists()  # "Nothing is started": no run dir either


def test_gpus_reports_this_machine():
    import json

    r = run_ftui("gpus", "--json")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["backend"] in ("nvml", "torch-cuda", "rocm", "mps", "cpu")
    if report["backend"] == "cpu":
        assert report["gpus"] == [] and "No GPU" in report["notice"]
        plain = run_ftui("gpus")
        assert "backend: cpu" in plain.stdout and "demo-size" in plain.stdout


def test_chat_with_a_path_that_does_not_exist(tmp_path):
    r = run_ftui("chat", str(tmp_path / "nope"), "--prompt", "hi", cwd=tmp_path)
    assert r.returncode == 2 and "no such run" in r.stderr and "Traceback" not in r.stderr


def test_chat_with_a_run_that_does_not_exist_lists_close_ones(tmp_path):
    from fake_runs import make_run

    make_run(tmp_path / "runs", "demo-20261124-080000")
    r = run_ftui("chat", "runs/dmeo", "--prompt", "hi", cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert "error: no such run 'runs/dmeo' under runs/ (closest: demo-20261124-080000)" in r.stderr
    assert "huggingface.co" not in r.stderr and "Traceback" not in r.stderr


def test_chat_takes_a_run_name_prefix_like_monitor(demo):
    r = run_ftui("chat", "demo", "--root", str(demo.parent), "--prompt", "hi", cwd=demo.parent)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip()


def test_the_command_spares_the_interpreter_its_last_full_collection(capsys):
    """ctrl+q in the playground left the terminal blank for seconds: the interpreter's final
    garbage collection walked every object of the model and the HF stack. The executable
    freezes the heap on the way out, so that collection has nothing to walk."""
    import gc

    from ftui.cli import entry

    assert gc.get_freeze_count() == 0
    try:
        assert entry(["presets", "list"]) == 0
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


NOISE = ("Loading weights", "Writing model shards", "Warning", "Token indices sequence length")


def test_chat_and_export_print_no_library_noise(demo, tmp_path):
    """Progress bars, advice and FutureWarnings of transformers are not ftui's output: only
    ftui's own lines reach stderr (export keeps its progress, which the user asked for)."""
    chat = run_ftui("chat", str(demo), "--prompt", "What is the capital of France?")
    assert chat.returncode == 0, chat.stderr
    assert chat.stdout.strip() == "The capital of France is Paris."
    export = run_ftui("export", str(demo), "--merge", "--out", str(tmp_path / "merged"))
    assert export.returncode == 0, export.stderr
    for out in (chat.stderr, export.stderr):
        assert not [line for line in out.splitlines() if any(n in line for n in NOISE)], out
    assert "[100%] done" in export.stderr


def test_preview_counts_rows_from_1(tmp_path):
    r = run_ftui("preview", "demo", "--rows", "2", "--color", "never", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "row 1" in r.stdout and "row 2" in r.stdout and "row 0" not in r.stdout
