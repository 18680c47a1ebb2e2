"""Run llama.cpp's convert_hf_to_gguf.py (a separate process: `python gguf_runner.py ...`).

argv: CONVERTER_SCRIPT PRE_TOKENIZER_FALLBACK CONVERTER_ARGS... PRE_TOKENIZER_FALLBACK is
"-" or a llama.cpp pre-tokenizer name ("gpt-2"). llama.cpp names a BPE tokenizer's
pre-tokenizer by hashing the ids it gives a test text, so a vocabulary it has never seen (the
demo's, trained locally) is refused even when its pre-tokenizer is plain GPT-2 byte-level.
ftui reads the pre-tokenizer from tokenizer.json and passes its llama.cpp name; it is used
only where the hash is unknown. The converter's own gguf-py goes first on sys.path (as the
converter does itself), so the installed PyPI `gguf` is never mixed with it.

Not imported by ftui: only the standard library and what the converter imports run here.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path


def main() -> None:
    script, fallback, *args = sys.argv[1:]
    root = Path(script).resolve().parent
    sys.path[:0] = [str(root), str(root / "gguf-py")]
    sys.argv = [script, *args]
    # Loaded as a module (its `__main__` block does not run), so TextModel can be patched
    # first: in conversion/base.py in current llama.cpp, in the script itself before.
    spec = importlib.util.spec_from_file_location("convert_hf_to_gguf", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["convert_hf_to_gguf"] = module
    spec.loader.exec_module(module)
    if fallback != "-":
        text_model = getattr(module, "TextModel", None)
        if text_model is None:
            from conversion import base  # type: ignore[import-not-found]  # the converter's own

            text_model = base.TextModel
        original = text_model.get_vocab_base_pre

        def with_fallback(self, tokenizer):  # type: ignore[no-untyped-def]
            try:
                return original(self, tokenizer)
            except NotImplementedError:
                return fallback

        text_model.get_vocab_base_pre = with_fallback
    module.main()


if __name__ == "__main__":
    main()
