"""The demo model is built once, deterministically, and safely when several processes ask."""

from __future__ import annotations

import os
import subprocess
import sys

from ftui.core import locations


def test_concurrent_builds_do_not_collide(tmp_path):
    env = {**os.environ, "FTUI_HOME": str(tmp_path / "home")}
    code = "from ftui.core.demo import ensure_demo_model; from transformers import AutoTokenizer; AutoTokenizer.from_pretrained(ensure_demo_model()); print('ok')"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    models = tmp_path / "home" / "cache" / "models"
    assert sorted(p.name for p in models.iterdir() if not p.name.startswith(".")) == [
        "demo-tiny-llama"
    ]


def test_build_is_deterministic(tmp_path, demo_model):
    from ftui.core.demo import BUILD_VERSION  # noqa: F401  (the cached copy is this version)

    env = {**os.environ, "FTUI_HOME": str(tmp_path / "home")}
    subprocess.run(
        [sys.executable, "-c", "from ftui.core.demo import ensure_demo_model; ensure_demo_model()"],
        env=env,
        check=True,
        capture_output=True,
    )
    fresh = tmp_path / "home" / "cache" / "models" / "demo-tiny-llama"
    for name in ("model.safetensors", "tokenizer.json"):
        assert (fresh / name).read_bytes() == (demo_model / name).read_bytes(), name
    assert demo_model == locations.demo_model_dir()
