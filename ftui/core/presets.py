"""Presets: documented RunSpec YAML files. Built-in ones ship in the package; user ones live in
the user config dir. Names are allow-listed so a preset can never be read or written outside
its directory.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ftui.core import locations
from ftui.core.atomic import atomic_write_text
from ftui.core.spec import (
    RunSpec,
    SpecError,
    apply_overrides,
    load_yaml_text,
    read_spec_text,
    spec_from_dict,
)

PRESET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class PresetInfo:
    name: str
    path: Path
    builtin: bool
    summary: str


def check_name(name: str) -> str:
    if not isinstance(name, str) or not PRESET_NAME.fullmatch(name) or ".." in name:
        raise SpecError(
            [
                f"preset name {name[:80]!r}: use letters, digits, '.', '-', '_' "
                "(at most 64, no '..', no '/')"
            ]
        )
    return name


def _safe_file(directory: Path, name: str) -> Path:
    """The preset file for name inside directory; refuses symlinks and anything resolving outside."""
    path = directory / f"{check_name(name)}.yaml"
    if path.is_symlink():
        raise SpecError([f"preset {name!r}: {path} is a symlink; refusing to follow it"])
    base = directory.resolve()
    if path.exists() and path.resolve().parent != base:
        raise SpecError([f"preset {name!r}: resolves outside {directory}"])
    return path


def _summary(text: str) -> str:
    """The header comment's first paragraph, whole (its lines joined), without a leading
    "name:"; it ends at a blank comment line, a `Run:`/`Needs:` line or the YAML."""
    lines: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        body = (
            line.lstrip("#").strip() if line.startswith("#") and not line.startswith("#!") else None
        )
        if body is None or (lines and not body):
            break
        if body.lower().startswith(("run:", "needs:", "ftui run ")):
            if lines:
                break
            continue
        if body:
            lines.append(body)
    first = " ".join(lines)
    name, sep, rest = first.partition(": ")
    return rest if sep and " " not in name else first


def describe(data: object) -> str:
    """A preset saved without a description, told from its spec: `lora of MODEL on DATA`."""
    if not isinstance(data, dict):
        return ""
    sections = {k: v if isinstance(v, dict) else {} for k, v in data.items()}
    kind = sections.get("method", {}).get("kind", "lora")
    model = sections.get("model", {}).get("name_or_path", "?")
    source = sections.get("data", {}).get("source", "?")
    return f"{kind} of {model} on {source}"


def list_presets() -> list[PresetInfo]:
    out: dict[str, PresetInfo] = {}
    for builtin, directory in (
        (True, locations.builtin_presets_dir()),
        (False, locations.user_presets_dir()),
    ):
        if not directory.is_dir():
            continue
        for path in sorted(directory.glob("*.yaml")):
            name = path.stem
            if not PRESET_NAME.fullmatch(name) or path.is_symlink():
                continue
            if not builtin and name in out:
                continue  # a user preset never shadows a built-in one
            try:
                text = path.read_text(encoding="utf-8")
            except OSError:
                continue
            summary = _summary(text)
            if not summary:
                try:
                    summary = describe(load_yaml_text(text, f"preset {name}"))
                except SpecError:
                    summary = "(cannot be read: ftui presets show " + name + ")"
            out[name] = PresetInfo(name, path, builtin, summary)
    return list(out.values())


def find_preset(name: str) -> PresetInfo:
    check_name(name)
    for builtin, directory in (
        (True, locations.builtin_presets_dir()),
        (False, locations.user_presets_dir()),
    ):
        path = _safe_file(directory, name)
        if path.is_file():
            return PresetInfo(name, path, builtin, "")
    names = ", ".join(p.name for p in list_presets()) or "none"
    raise SpecError([f"preset {name!r} not found; presets: {names}"])


def preset_text(name: str) -> str:
    return find_preset(name).path.read_text(encoding="utf-8")


def resolve_spec(spec: str, overrides: list[str] | None = None) -> RunSpec:
    """SPEC is a YAML path or a preset name."""
    path = Path(spec)
    if spec.endswith((".yaml", ".yml")) or path.is_file() or "/" in spec:
        if not path.exists():
            raise SpecError([f"{spec}: no such file (and not a preset name)"])
        text, source = read_spec_text(path), spec
    else:
        text, source = preset_text(spec), f"preset {spec}"
    data = load_yaml_text(text, source)
    return spec_from_dict(apply_overrides(data, overrides or []))


def summary_of(spec: str | None) -> str:
    """The description of a SPEC argument (a preset name or a YAML path), or ""."""
    if not spec:
        return ""
    for info in list_presets():
        if info.name == spec:
            return info.summary
    path = Path(spec)
    try:
        return _summary(path.read_text(encoding="utf-8")) if path.is_file() else ""
    except OSError:
        return ""


def description_header(name: str, description: str) -> str:
    """`name: description` wrapped into comment-sized lines (`_summary` joins them again)."""
    import textwrap

    return "\n".join(textwrap.wrap(f"{name}: {' '.join(description.split())}", width=94))


def save_preset(name: str, spec: RunSpec, header: str | None = None) -> Path:
    """Save a user preset (atomically). Built-in names are refused. `header` becomes the
    file's leading comment (its first paragraph is the description the Start step shows)."""
    check_name(name)
    builtin = locations.builtin_presets_dir() / f"{name}.yaml"
    if builtin.exists():
        raise SpecError([f"preset {name!r} is built in; save under another name"])
    directory = locations.user_presets_dir()
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = _safe_file(directory, name)
    text = spec.to_yaml()
    if header:
        text = "".join(f"# {line}\n" for line in header.splitlines()) + text
    atomic_write_text(path, text)
    return path


def remove_preset(name: str) -> Path:
    check_name(name)
    if (locations.builtin_presets_dir() / f"{name}.yaml").exists():
        raise SpecError([f"preset {name!r} is built in and cannot be removed"])
    path = _safe_file(locations.user_presets_dir(), name)
    if not path.is_file():
        raise SpecError([f"user preset {name!r} not found"])
    path.unlink()
    return path
