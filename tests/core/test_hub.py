"""The HF cache scan, offline downloads and `ftui download`, on a real cache layout in tmp."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ftui.core.model.facts import inspect_model
from ftui.core.model.hub import ModelError, download_model, list_cached_models, select_files

COMMIT = "a" * 40
ROOT = Path(__file__).resolve().parents[2]


def cache_model(cache: Path, repo_id: str, files: dict[str, bytes]) -> Path:
    """Lay out files exactly as huggingface_hub stores them: blobs + snapshot symlinks + ref."""
    repo = cache / ("models--" + repo_id.replace("/", "--"))
    (repo / "blobs").mkdir(parents=True, exist_ok=True)
    (repo / "refs").mkdir(exist_ok=True)
    (repo / "refs" / "main").write_text(COMMIT)
    snap = repo / "snapshots" / COMMIT
    snap.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        blob = repo / "blobs" / hashlib.sha256(data).hexdigest()
        blob.write_bytes(data)
        os.symlink(os.path.relpath(blob, snap), snap / name)
    return snap


@pytest.fixture
def offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)


def tiny_llama_config() -> bytes:
    from transformers import LlamaConfig

    cfg = LlamaConfig(
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        vocab_size=256,
    )
    return cfg.to_json_string().encode()


def test_list_cached_models_sizes(tmp_path):
    cache_model(tmp_path, "acme/small", {"config.json": b"{}", "model.safetensors": b"x" * 5000})
    cache_model(tmp_path, "acme/other", {"config.json": b"{}"})
    models = {m.repo_id: m for m in list_cached_models(str(tmp_path))}
    assert set(models) == {"acme/small", "acme/other"}
    assert models["acme/small"].size_on_disk >= 5002
    assert models["acme/small"].refs == ["main"]
    assert models["acme/small"].revisions == [COMMIT]


def test_no_cache_is_empty_list(tmp_path):
    assert list_cached_models(str(tmp_path / "missing")) == []


def test_select_files_skips_duplicate_weights():
    files = [
        ("config.json", 700),
        ("model-00001-of-00002.safetensors", 5_000_000_000),
        ("model-00002-of-00002.safetensors", 1_000_000_000),
        ("pytorch_model.bin", 6_000_000_000),
        ("original/consolidated.00.pth", 6_000_000_000),
        ("tokenizer.json", 9_000_000),
    ]
    chosen = [name for name, _ in select_files(files)]
    assert chosen == [
        "config.json",
        "model-00001-of-00002.safetensors",
        "model-00002-of-00002.safetensors",
        "tokenizer.json",
    ]
    bin_only = [("config.json", 1), ("pytorch_model.bin", 2)]
    assert select_files(bin_only) == bin_only


def test_offline_download_of_cached_model_returns_snapshot(tmp_path, offline):
    snap = cache_model(tmp_path, "acme/small", {"config.json": b"{}"})
    assert download_model("acme/small", cache_dir=str(tmp_path)) == snap


def test_offline_download_not_cached_is_clear(tmp_path, offline):
    with pytest.raises(ModelError) as err:
        download_model("acme/absent", cache_dir=str(tmp_path))
    assert "HF_HUB_OFFLINE=1" in str(err.value) and "acme/absent" in str(err.value)


def test_inspect_cached_hub_model_offline(tmp_path, offline):
    cache_model(
        tmp_path,
        "meta-llama/Tiny",
        {"config.json": tiny_llama_config(), "tokenizer_config.json": b"{}"},
    )
    facts = inspect_model("meta-llama/Tiny", cache_dir=str(tmp_path))
    assert facts.is_local is False
    assert facts.num_params == 106816
    assert facts.has_chat_template is False
    assert facts.gated_hint is not None and "hf auth login" in facts.gated_hint


def test_download_command_offline_message(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "ftui", "download", "acme/absent"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 1
    assert "HF_HUB_OFFLINE=1 is set" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_download_command_no_network(tmp_path):
    """Online mode, but the hub endpoint refuses connections: one clear line, exit 1."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "HF_HUB_OFFLINE": "0",
        "HF_HOME": str(tmp_path),
        "HF_ENDPOINT": f"http://127.0.0.1:{port}",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "ftui", "download", "acme/absent"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 1
    assert "cannot reach the Hugging Face hub" in proc.stderr
    assert "Traceback" not in proc.stderr
