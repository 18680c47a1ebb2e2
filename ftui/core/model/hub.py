"""The Hugging Face cache and downloads: what is cached (with size on disk), and fetching a
model once, resumably, with its size known before the first byte.

Progress comes from watching the repo's blob folder grow while `snapshot_download` runs in a
thread; that works the same across huggingface_hub releases and for xet and plain downloads.
"""

from __future__ import annotations

import fnmatch
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ftui.core.demo import resolve_model_ref

GATED_ORGS = ("meta-llama", "google", "mistralai")
LOGIN_HINT = (
    "accept the license on https://huggingface.co/{name}, then run `hf auth login` "
    "(huggingface_hub keeps the token; ftui never stores it)"
)


def hub_repo_errors() -> tuple[type[Exception], ...]:
    """huggingface_hub's errors about the repo itself (gated, no such revision, no such repo)."""
    from huggingface_hub.errors import (
        GatedRepoError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    return (GatedRepoError, RevisionNotFoundError, RepositoryNotFoundError)


def hub_repo_message(exc: Exception, name: str, revision: str | None) -> str:
    """One readable line with the fix for an error in hub_repo_errors()."""
    from huggingface_hub.errors import GatedRepoError, RevisionNotFoundError

    if isinstance(exc, GatedRepoError):
        return f"{name} is gated: {LOGIN_HINT.format(name=name)}"
    if isinstance(exc, RevisionNotFoundError):
        return f"{name}: revision {revision!r} does not exist on the hub"
    return f"{name}: not found on the hub (check the spelling; private repos need `hf auth login`)"


class ModelError(Exception):
    """A model that cannot be read; the message names it and says how to fix it."""


def resolve_ref(name: str) -> str:
    """A model reference as a hub id or path (built-in refs become their cache directory)."""
    return str(resolve_model_ref(name))


def is_offline() -> bool:
    """HF_HUB_OFFLINE is set: never try the network."""
    return os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on")


def offline_message(ref: str) -> str:
    why = "HF_HUB_OFFLINE=1 is set" if is_offline() else "the hub cannot be reached"
    return (
        f"{ref}: not in the Hugging Face cache and {why}. On a machine with network run "
        f"`ftui download {ref}` (or unset HF_HUB_OFFLINE), or use a local path"
    )


# Weights in formats the worker never loads when safetensors are there; `original/` holds
# the framework-native checkpoint some repos ship next to the transformers one.
DUPLICATE_WEIGHTS = (
    "*.bin",
    "*.pt",
    "*.pth",
    "*.ckpt",
    "*.h5",
    "*.msgpack",
    "*.onnx",
    "*.onnx_data",
    "*.gguf",
    "*.tflite",
    "*.ot",
    "original/*",
    "onnx/*",
    "openvino/*",
    "coreml/*",
)

Progress = Callable[[int, int], None]


@dataclass
class CachedModel:
    repo_id: str
    size_on_disk: int
    revisions: list[str]
    refs: list[str]
    last_modified: float
    path: str


def list_cached_models(cache_dir: str | None = None) -> list[CachedModel]:
    """Models in the Hugging Face cache, newest first; [] when there is no cache yet."""
    from huggingface_hub import scan_cache_dir
    from huggingface_hub.errors import CacheNotFound

    try:
        info = scan_cache_dir(cache_dir)
    except CacheNotFound:
        return []
    out = []
    for repo in info.repos:
        if repo.repo_type != "model":
            continue
        out.append(
            CachedModel(
                repo_id=repo.repo_id,
                size_on_disk=int(repo.size_on_disk),
                revisions=sorted(r.commit_hash for r in repo.revisions),
                refs=sorted(ref for r in repo.revisions for ref in r.refs),
                last_modified=float(repo.last_modified),
                path=str(repo.repo_path),
            )
        )
    return sorted(out, key=lambda m: m.last_modified, reverse=True)


def select_files(files: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """The files training needs: with safetensors present, other weight formats are skipped."""
    if not any(name.endswith(".safetensors") for name, _ in files):
        return list(files)
    return [
        (name, size)
        for name, size in files
        if not any(fnmatch.fnmatch(name, pat) for pat in DUPLICATE_WEIGHTS)
    ]


def repo_files(name: str, revision: str | None = None) -> list[tuple[str, int]]:
    """(path, size) of every file in the hub repo. Raises ModelError with the fix."""
    from huggingface_hub import HfApi

    try:
        info = HfApi().model_info(name, revision=revision, files_metadata=True)
    except hub_repo_errors() as exc:
        raise ModelError(hub_repo_message(exc, name, revision)) from None
    except Exception as exc:  # OfflineModeIsEnabled, httpx connect/timeout errors, DNS
        raise ModelError(
            f"{name}: cannot reach the Hugging Face hub ({type(exc).__name__}); check the "
            "network or proxy (HTTPS_PROXY), or set HF_ENDPOINT for a mirror"
        ) from None
    return [(s.rfilename, int(s.size or 0)) for s in info.siblings or []]


def _blob_bytes(blobs: Path) -> int:
    total = 0
    try:
        for entry in os.scandir(blobs):
            try:
                total += entry.stat().st_size
            except OSError:
                continue
    except OSError:
        return 0
    return total


def download_model(
    name: str,
    revision: str | None = None,
    progress: Progress | None = None,
    cache_dir: str | None = None,
    poll_s: float = 0.5,
) -> Path:
    """Fetch a hub model into the cache (resumes partial files) and return its snapshot dir.

    `progress(done_bytes, total_bytes)` is called once with 0 before downloading (the size
    up front), then as bytes arrive, and once at the end. A local path is returned as is.
    """
    from huggingface_hub import snapshot_download

    ref = resolve_ref(name)
    if Path(ref).expanduser().exists():
        return Path(ref).expanduser()
    if is_offline():
        try:
            return Path(
                snapshot_download(
                    ref, revision=revision, cache_dir=cache_dir, local_files_only=True
                )
            )
        except Exception:
            raise ModelError(
                f"{ref}: cannot download, HF_HUB_OFFLINE=1 is set and it is not in the cache. "
                "Unset HF_HUB_OFFLINE on a machine with network (the cache can then be copied "
                "to this one), or use a local path"
            ) from None
    files = select_files(repo_files(ref, revision))
    total = sum(size for _, size in files)
    if progress:
        progress(0, total)
    from huggingface_hub import constants
    from huggingface_hub.file_download import repo_folder_name

    root = Path(cache_dir or constants.HF_HUB_CACHE)
    blobs = root / repo_folder_name(repo_id=ref, repo_type="model") / "blobs"
    before = _blob_bytes(blobs)  # progress counts the bytes fetched by this call
    result: dict[str, object] = {}

    def fetch() -> None:
        try:
            result["path"] = snapshot_download(
                ref,
                revision=revision,
                cache_dir=cache_dir,
                allow_patterns=[f for f, _ in files],
            )
        except BaseException as exc:  # re-raised in the caller's thread
            result["error"] = exc

    worker = threading.Thread(target=fetch, name=f"download {ref}", daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(poll_s)
        if progress:
            progress(min(total, max(0, _blob_bytes(blobs) - before)), total)
    error = result.get("error")
    if error is not None:
        if isinstance(error, KeyboardInterrupt):
            raise error
        raise ModelError(
            f"{ref}: download stopped ({type(error).__name__}: {error}); "
            f"run `ftui download {ref}` again to resume"
        )
    if progress:
        progress(total, total)
    return Path(str(result["path"]))
