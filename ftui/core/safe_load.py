"""Weights load from safetensors only: a PyTorch .bin file is a pickle, and unpickling a
downloaded file can run code. Every model load in ftui goes through `load_causal_lm`, or
`load_gguf_causal_lm` for a GGUF file (a plain tensor container, no pickle: transformers
dequantises it with the gguf package).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

PICKLED_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl")


class UnsafeWeightsError(OSError):
    """The model has no safetensors weights (only pickled ones)."""


def pickled_only(path: str | Path) -> bool:
    """True for a local model directory with pickled weights and no .safetensors file."""
    p = Path(path)
    if not p.is_dir():
        return False
    names = [f.name for f in p.iterdir() if f.is_file()]
    has_safe = any(n.endswith(".safetensors") for n in names)
    has_pickle = any(n.endswith(PICKLED_SUFFIXES) and "training_args" not in n for n in names)
    return has_pickle and not has_safe


def unsafe_message(ref: str) -> str:
    return (
        f"model.name_or_path: {ref} has no .safetensors weights, only pickled PyTorch files "
        "(.bin), which can run code when loaded; ftui loads safetensors only. Use a revision "
        "that has model.safetensors, or convert it once in a trusted environment "
        "(model.save_pretrained(dir) writes safetensors)"
    )


def load_causal_lm(cls: Any, ref: str | Path, **kwargs: Any) -> Any:
    """cls.from_pretrained(ref, use_safetensors=True, ...), with a clear error for .bin-only."""
    kwargs["use_safetensors"] = True
    if pickled_only(ref):
        raise UnsafeWeightsError(unsafe_message(str(ref)))
    try:
        return cls.from_pretrained(ref, **kwargs)
    except OSError as exc:
        if "safetensors" in str(exc).lower() and not isinstance(exc, UnsafeWeightsError):
            raise UnsafeWeightsError(unsafe_message(str(ref)) + f" [{exc}]") from None
        raise


def load_gguf_causal_lm(cls: Any, gguf: str | Path, **kwargs: Any) -> Any:
    """cls.from_pretrained(dir, gguf_file=name, ...) for a .gguf file (dequantised on load)."""
    path = Path(gguf)
    if path.suffix.lower() != ".gguf" or not path.is_file():
        raise OSError(f"model.name_or_path: {gguf} is not a .gguf file")
    return cls.from_pretrained(path.parent, gguf_file=path.name, **kwargs)
