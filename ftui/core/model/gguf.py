"""A GGUF file (llama.cpp, Ollama) as a model source: `model.name_or_path: path/to/x.gguf`.

transformers reads a GGUF with `from_pretrained(dir, gguf_file=name)` and dequantises its
weights; ftui does that once per file and keeps the result as a plain model directory
(config.json, model.safetensors in float32, tokenizer) in `locations.gguf_models_dir()`, keyed
by the file's path, size and modification time. `ensure_converted` is what
`resolve_model_ref` calls, so the tokenizer, the worker's ranks, the playground, export,
preflight and the fingerprints all read that directory, and only the first of them pays for
the conversion (ranks wait on a lock rather than each converting).

`read_header` reads the few metadata keys ftui shows (architecture, quantisation, the
pre-tokenizer's name, the chat template) straight from the file, without the weights.
`convert_gguf` is also how the fetched SmolLM2 artefact is converted (`artefacts.py`).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import mmap
import os
import shutil
import struct
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ftui.core import locations
from ftui.core.atomic import atomic_write_json

MARKER = "ftui_gguf.json"
RECIPE_VERSION = 1  # bump when the conversion changes: cached copies are redone
DEQUANTISED_DTYPE = "float32"  # every GGUF quant type (scale x small integer) is exact in it
Say = Callable[[str], None]


class GgufError(ValueError):
    """A GGUF that cannot be used; the message names the file and the fix."""


def is_gguf_ref(name_or_path: str) -> bool:
    return name_or_path.lower().endswith(".gguf")


def gguf_file(name_or_path: str) -> Path:
    """The GGUF file a model reference names; GgufError if it is not an existing file."""
    path = Path(name_or_path).expanduser()
    if not path.is_file():
        what = "is a directory, not a file" if path.is_dir() else "does not exist"
        raise GgufError(
            f"model.name_or_path: {name_or_path} {what}; give the path of a .gguf file "
            "(llama.cpp and Ollama write them), a model directory or a hub id"
        )
    return path.resolve()


# --- the header: a few metadata keys, read without the gguf package's full parse ---------------

GGUF_MAGIC = b"GGUF"
# value type -> struct format of the fixed-size types; 8 is a string, 9 an array.
_SCALAR = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q"}
_SCALAR.update({11: "<q", 12: "<d"})
_STRING, _ARRAY = 8, 9


def read_header(path: Path) -> dict[str, Any]:
    """The metadata of a GGUF file: scalars and strings by key; arrays only as their length.

    The gguf package's GGUFReader builds every array element by element (SmolLM2's 49152
    tokens and 48900 merges: seconds); this skips them, so reading a header takes milliseconds.
    Only the metadata section is read, never the tensors.
    """
    with open(path, "rb") as handle:
        try:
            data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        except ValueError:  # an empty file cannot be mapped
            raise GgufError(f"{path}: empty file, not a GGUF") from None
    with data:
        if data[:4] != GGUF_MAGIC:
            raise GgufError(f"{path}: not a GGUF file (it does not start with 'GGUF')")
        version = struct.unpack_from("<I", data, 4)[0]
        if version not in (2, 3):
            raise GgufError(f"{path}: GGUF version {version}; only versions 2 and 3 are read")
        _tensors, count = struct.unpack_from("<QQ", data, 8)
        pos, out = 24, {}
        try:
            for _ in range(count):
                key, pos = _string(data, pos)
                kind = struct.unpack_from("<I", data, pos)[0]
                value, pos = _value(data, pos + 4, kind)
                out[key] = value
        except (struct.error, UnicodeDecodeError, KeyError) as exc:
            raise GgufError(f"{path}: damaged GGUF metadata ({exc})") from None
    return out


def _string(data: mmap.mmap, pos: int) -> tuple[str, int]:
    n = struct.unpack_from("<Q", data, pos)[0]
    return data[pos + 8 : pos + 8 + n].decode("utf-8"), pos + 8 + n


def _value(data: mmap.mmap, pos: int, kind: int) -> tuple[Any, int]:
    if kind == _STRING:
        return _string(data, pos)
    if kind == _ARRAY:
        item, n = struct.unpack_from("<IQ", data, pos)
        pos += 12
        if item == _STRING:
            for _ in range(n):
                pos += 8 + struct.unpack_from("<Q", data, pos)[0]
        elif item == _ARRAY:
            for _ in range(n):
                _skipped, pos = _value(data, pos, _ARRAY)
        else:
            pos += n * struct.calcsize(_SCALAR[item])
        return n, pos
    fmt = _SCALAR[kind]
    return struct.unpack_from(fmt, data, pos)[0], pos + struct.calcsize(fmt)


def quantization_name(header: dict[str, Any]) -> str:
    """`Q4_1`, `Q8_0`, `F16`... from general.file_type (llama.cpp's LlamaFileType)."""
    file_type = header.get("general.file_type")
    if file_type is None:
        return "unknown"
    try:
        from gguf import LlamaFileType

        name = LlamaFileType(int(file_type)).name
    except (ImportError, ValueError):
        return f"file type {file_type}"
    return name.removeprefix("MOSTLY_").removeprefix("ALL_")


# --- what the Model step shows ---------------------------------------------------------------


@dataclass(frozen=True)
class GgufInfo:
    path: str
    size: int
    quantization: str  # Q4_1, Q8_0, F16, ...
    architecture: str  # general.architecture (llama.cpp's name: llama, qwen2, phi3, ...)
    pre_tokenizer: str | None  # tokenizer.ggml.pre
    tokenizer_fix: str | None  # what ftui corrects in transformers' rebuilt tokenizer
    converted_dir: str
    converted: bool  # the dequantised copy is already in the cache
    dequantised_dtype: str = DEQUANTISED_DTYPE


def gguf_info(path: Path) -> GgufInfo:
    header = read_header(path)
    pre = header.get("tokenizer.ggml.pre")
    fix = TOKENIZER_FIXES.get(str(pre)) if pre else None
    target = converted_dir(path)
    return GgufInfo(
        path=str(path),
        size=path.stat().st_size,
        quantization=quantization_name(header),
        architecture=str(header.get("general.architecture", "unknown")),
        pre_tokenizer=str(pre) if pre else None,
        tokenizer_fix=fix[1] if fix else None,
        converted_dir=str(target),
        converted=is_converted(path, target),
    )


def chat_template(path: Path) -> str | None:
    value = read_header(path).get("tokenizer.chat_template")
    return value if isinstance(value, str) and value else None


def read_config(path: Path) -> Any:
    """The model config, without the weights: from the dequantised copy when it is cached,
    else from the GGUF's metadata through transformers, remembered next to where the copy
    will go (transformers parses every metadata array for it: 3 s for SmolLM2, more when the
    machine is busy, and the Model step asks again whenever the model field changes)."""
    from transformers import AutoConfig

    target = converted_dir(path)
    if is_converted(path, target):
        return AutoConfig.from_pretrained(str(target))
    remembered = target.with_name(f"{target.name}.config.json")
    try:
        data = json.loads(remembered.read_text("utf-8"))
        return AutoConfig.for_model(data.pop("model_type"), **data)
    except (OSError, ValueError, KeyError, TypeError):
        pass
    with _quiet():
        try:
            config = AutoConfig.from_pretrained(str(path.parent), gguf_file=path.name)
        except (ValueError, KeyError, OSError) as exc:
            raise GgufError(
                f"model.name_or_path: {path.name}: this transformers cannot read its config "
                f"({str(exc).splitlines()[0][:200]}); upgrade transformers, or use the "
                "model's safetensors release (a hub id or a directory) instead"
            ) from None
    with contextlib.suppress(OSError):
        remembered.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_json(remembered, json.loads(config.to_json_string()))
    return config


# --- the dequantised copy, cached ------------------------------------------------------------


def identity(path: Path) -> dict[str, Any]:
    """What names one version of a file: its real path, size and modification time."""
    st = path.stat()
    return {"path": str(path.resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def cache_key(path: Path) -> str:
    text = json.dumps({**identity(path), "recipe": RECIPE_VERSION}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def converted_dir(path: Path) -> Path:
    return locations.gguf_models_dir() / f"{path.stem}-{cache_key(path)}"


def is_converted(path: Path, target: Path) -> bool:
    try:
        marker = json.loads((target / MARKER).read_text("utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(marker, dict) and marker.get("source") == identity(path)


def _stderr_line(message: str) -> None:
    print(f"ftui: {message}", file=sys.stderr, flush=True)


def ensure_converted(name_or_path: str, say: Say | None = None) -> Path:
    """The dequantised model directory of a GGUF file, converting it on first use.

    Safe when several processes ask at once (the ranks of a run): one converts into a temp
    directory under a lock and renames it into place; the others wait, then reuse it.
    `say` gets a line before and after a conversion (default: stderr); nothing when cached.
    """
    import fcntl

    path = gguf_file(name_or_path)
    target = converted_dir(path)
    if is_converted(path, target):
        return target
    say = say or _stderr_line
    target.parent.mkdir(parents=True, exist_ok=True)
    lock = os.open(target.parent / f".{target.name}.lock", os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if is_converted(path, target):
            return target
        header = read_header(path)
        size = path.stat().st_size
        say(
            f"{path.name} is a GGUF ({quantization_name(header)}, {size / 1e6:.0f} MB): "
            f"dequantising it to {DEQUANTISED_DTYPE} safetensors once, into {target} "
            "(later commands and every rank reuse it)"
        )
        started = time.monotonic()
        tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            try:
                notes = convert_gguf(path, tmp)
            except (ValueError, KeyError, OSError, RuntimeError) as exc:
                first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
                raise GgufError(
                    f"model.name_or_path: {path.name}: transformers cannot load this GGUF "
                    f"({first}); upgrade transformers, or use the model's safetensors "
                    "release (a hub id or a directory) instead"
                ) from None
            seconds = round(time.monotonic() - started, 1)
            atomic_write_json(
                tmp / MARKER,
                {
                    "source": identity(path),
                    "recipe": RECIPE_VERSION,
                    "quantization": quantization_name(header),
                    "dtype": DEQUANTISED_DTYPE,
                    "notes": notes,
                    "seconds": seconds,
                },
            )
            shutil.rmtree(target, ignore_errors=True)
            os.replace(tmp, target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        _drop_older_copies(path, target)
        say(f"dequantised {path.name} in {seconds:.1f}s" + "".join(f"; {n}" for n in notes))
    finally:
        os.close(lock)  # releases the lock
    return target


def _drop_older_copies(path: Path, keep: Path) -> None:
    """Copies of earlier versions of the same file (it was replaced or touched) only use disk."""
    real = str(path.resolve())
    for other in keep.parent.glob(f"{path.stem}-*"):
        if other == keep or not other.is_dir():
            continue
        try:
            marker = json.loads((other / MARKER).read_text("utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(marker, dict) and (marker.get("source") or {}).get("path") == real:
            shutil.rmtree(other, ignore_errors=True)
            other.with_name(f"{other.name}.config.json").unlink(missing_ok=True)


@contextlib.contextmanager
def _quiet() -> Any:
    """transformers' progress bars (its own, and plain tqdm ones for dequantising and writing
    shards, on sys.stderr) would flood a command's output; ftui's own lines say enough."""
    from transformers.utils import logging as hf_logging

    bar = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            yield
    finally:
        if bar:
            hf_logging.enable_progress_bar()


def convert_gguf(path: Path, out: Path) -> list[str]:
    """GGUF -> `out/`: config.json, model.safetensors (float32), generation_config.json and the
    tokenizer, with the fixes the pre-tokenizer named in the file needs. Returns notes."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from ftui.core.safe_load import load_gguf_causal_lm

    header = read_header(path)
    notes: list[str] = []
    with _quiet():
        tokenizer = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
        fix = TOKENIZER_FIXES.get(str(header.get("tokenizer.ggml.pre")))
        if fix is not None:
            tokenizer = fix[0](tokenizer, header)
            notes.append(fix[1])
        model = load_gguf_causal_lm(AutoModelForCausalLM, path, dtype=torch.float32)
    save_converted(model, tokenizer, out)
    return notes


def save_converted(model: Any, tokenizer: Any, out: Path) -> None:
    """Save a model loaded from a GGUF as a plain float32 model directory."""
    import torch

    config = model.config
    # The weights are dequantised: a config that still says "gguf" would send the next load
    # back to the GGUF loader.
    if hasattr(config, "quantization_config"):
        delattr(config, "quantization_config")
    model.hf_quantizer = None
    # GGUF stores norm epsilons as float32 (1e-5 reads back as 9.9999997e-06): keep the value
    # the model was trained with, the shortest decimal that float32 rounds to the same number.
    for key in ("rms_norm_eps", "layer_norm_eps", "layer_norm_epsilon"):
        value = getattr(config, key, None)
        if isinstance(value, float):
            setattr(config, key, _float32_shortest(value))
    config.dtype = torch.float32
    with contextlib.redirect_stderr(io.StringIO()):
        model.save_pretrained(out)
    tokenizer.save_pretrained(out)


def _float32_shortest(value: float) -> float:
    import numpy as np

    return float(str(np.float32(value)))


# --- tokenizer fixes, by the pre-tokenizer name the GGUF records ------------------------------

# SmolLM's own tokenizer.json: each digit is split off before the GPT-2 byte-level regex runs
# (StarCoder's layout). The GGUF keeps only "smollm" as the pre-tokenizer's name, and
# transformers rebuilds a plain ByteLevel from it, so whitespace before a digit merges
# differently: "  2" must be ["ĠĠ", "2"], the plain ByteLevel gives ["Ġ", "Ġ", "2"].
SMOLLM_PRE_TOKENIZER = {
    "type": "Sequence",
    "pretokenizers": [
        {"type": "Digits", "individual_digits": True},
        {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
    ],
}
# ...and its post-processor: byte-level offsets, no BOS added (the GGUF says add_bos false).
SMOLLM_POST_PROCESSOR = {
    "type": "ByteLevel",
    "add_prefix_space": True,
    "trim_offsets": False,
    "use_regex": True,
}
CHATML_SPECIALS = ("<|im_start|>", "<|im_end|>")


def fix_smollm_tokenizer(tokenizer: Any, header: dict[str, Any]) -> Any:
    """The tokenizer transformers converts from a SmolLM GGUF, with SmolLM's own pre-tokenizer,
    post-processor and settings (model_max_length from the file, the ChatML specials), chat
    template kept."""
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast

    data = json.loads(tokenizer.backend_tokenizer.to_str())
    data["pre_tokenizer"] = SMOLLM_PRE_TOKENIZER
    data["post_processor"] = SMOLLM_POST_PROCESSOR
    # The GGUF converter writes "" where SmolLM's BPE has none (same behaviour, same file).
    data["model"]["continuing_subword_prefix"] = None
    data["model"]["end_of_word_suffix"] = None
    arch = header.get("general.architecture", "llama")
    vocab = tokenizer.get_vocab()
    fixed = PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer.from_str(json.dumps(data)),
        bos_token=tokenizer.bos_token,
        eos_token=tokenizer.eos_token,
        unk_token=tokenizer.unk_token,
        pad_token=tokenizer.pad_token,
        additional_special_tokens=[t for t in CHATML_SPECIALS if t in vocab],
        model_max_length=int(header.get(f"{arch}.context_length") or 2048),
        clean_up_tokenization_spaces=False,
    )
    fixed.chat_template = tokenizer.chat_template
    return fixed


# tokenizer.ggml.pre -> (fix, what the fix does). transformers maps the pre-tokenizer names
# it knows (llama-bpe, qwen2, tekken, ...) to their split rules; these are the ones it does
# not, found to tokenise differently from the model's own tokenizer.json.
TOKENIZER_FIXES: dict[str, tuple[Callable[[Any, dict[str, Any]], Any], str]] = {
    "smollm": (
        fix_smollm_tokenizer,
        "tokenizer: SmolLM's pre-tokenizer restored (each digit its own token)",
    ),
}
