"""The one tokenizer loader: the model's own tokenizer, with EOS as the pad token only when the
model has none."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from ftui.core.model.tokenizer import load_tokenizer


def _without_pad(model_dir: Path, out: Path) -> Path:
    """The demo model's tokenizer files with the pad token taken out (as Llama ships)."""
    out.mkdir()
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        if (model_dir / name).is_file():
            shutil.copy(model_dir / name, out / name)
    for name in ("tokenizer_config.json", "special_tokens_map.json"):
        path = out / name
        if path.is_file():
            data = json.loads(path.read_text())
            data.pop("pad_token", None)
            path.write_text(json.dumps(data))
    return out


def test_a_tokenizer_without_a_pad_token_pads_with_eos(demo_model: Path, tmp_path: Path) -> None:
    plain = _without_pad(demo_model, tmp_path / "no-pad")
    tok = load_tokenizer(plain)
    assert tok.eos_token == "</s>" and tok.pad_token == "</s>"
    assert tok.pad_token_id == tok.eos_token_id


def test_a_tokenizer_with_a_pad_token_keeps_it(demo_model: Path) -> None:
    tok = load_tokenizer(demo_model)
    assert tok.pad_token == "<pad>" and tok.pad_token_id != tok.eos_token_id
