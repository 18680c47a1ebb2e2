"""The run queue: specs waiting to run one after another (`ftui queue`, `ftui sweep`).

queue.json (in `locations.queue_dir()`) holds one entry per queued spec, resolved when it was
added (its output.root made absolute, so its runs land where `ftui runs` was looking when it
was queued). Every change is a read-modify-write under an exclusive lock, so `ftui queue add`
and the runner (launch/queue_runner) can change it at the same time. An entry's state is
pending, running, then the run's final status (completed, failed, stopped) or `error` when it
could not be launched at all.
"""

from __future__ import annotations

import fcntl
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ftui.core import locations
from ftui.core.atomic import atomic_write_text
from ftui.core.spec import RunSpec, spec_from_dict

PENDING, RUNNING = "pending", "running"


class QueueError(ValueError):
    pass


@dataclass
class QueueEntry:
    id: int
    spec: dict[str, Any]  # RunSpec.model_dump(mode="json"); a spec never holds a secret
    label: str  # what was queued: SPEC and its --set overrides
    added: float
    state: str = PENDING
    run_dir: str | None = None
    reason: str = ""
    sweep: str | None = None  # the sweep this trial belongs to
    eval_loss: float | None = None  # the run's last eval loss, once it has ended
    loss: float | None = None  # its last training loss
    finished: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return str(self.spec.get("name", "run"))

    def run_spec(self) -> RunSpec:
        return spec_from_dict(self.spec)


def queue_file() -> Path:
    return locations.queue_dir() / "queue.json"


@contextmanager
def _locked() -> Iterator[None]:
    folder = locations.queue_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    with open(folder / "queue.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _read() -> list[QueueEntry]:
    try:
        data = json.loads(queue_file().read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as exc:
        raise QueueError(
            f"{queue_file()}: unreadable ({exc}); remove it to start a new queue"
        ) from None
    known = set(QueueEntry.__dataclass_fields__)
    return [
        QueueEntry(**{k: v for k, v in item.items() if k in known})
        for item in data.get("entries", [])
    ]


def _write(entries: list[QueueEntry]) -> None:
    data = {"entries": [asdict(e) for e in entries]}
    atomic_write_text(queue_file(), json.dumps(data, indent=1) + "\n")


def entries() -> list[QueueEntry]:
    with _locked():
        return _read()


def change(edit: Callable[[list[QueueEntry]], Any]) -> Any:
    """Run edit on the entries under the lock and save them; edit's result."""
    with _locked():
        items = _read()
        result = edit(items)
        _write(items)
        return result


def add(spec: RunSpec, label: str, sweep: str | None = None) -> QueueEntry:
    """Queue a spec (its output.root made absolute here); the new entry."""
    root = Path(spec.output.root).expanduser().resolve()
    data = spec.model_dump(mode="json")
    data["output"]["root"] = str(root)
    # The runner may start elsewhere: local data and model paths are made absolute now too.
    for section, key in (("data", "source"), ("model", "name_or_path")):
        value = Path(str(data[section][key])).expanduser()
        if not value.is_absolute() and value.exists():
            data[section][key] = str(value.resolve())
    spec = spec_from_dict(data)

    def edit(items: list[QueueEntry]) -> QueueEntry:
        number = max((e.id for e in items), default=0) + 1
        entry = QueueEntry(number, spec.model_dump(mode="json"), label, time.time(), sweep=sweep)
        items.append(entry)
        return entry

    result: QueueEntry = change(edit)
    return result


def remove(number: int) -> QueueEntry:
    """Take entry `number` (as `ftui queue list` shows) off the queue; a running one stays."""

    def edit(items: list[QueueEntry]) -> QueueEntry:
        found = next((e for e in items if e.id == number), None)
        if found is None:
            listed = ", ".join(str(e.id) for e in items) or "none"
            raise QueueError(f"no queue entry {number} (entries: {listed})")
        if found.state == RUNNING:
            raise QueueError(
                f"queue entry {number} is running as {found.run_dir}: stop it with "
                f"`ftui stop {found.run_dir}`, then remove it"
            )
        items.remove(found)
        return found

    result: QueueEntry = change(edit)
    return result


def claim_next() -> QueueEntry | None:
    """The first pending entry, now marked running; None when nothing waits."""

    def edit(items: list[QueueEntry]) -> QueueEntry | None:
        entry = next((e for e in items if e.state == PENDING), None)
        if entry is not None:
            entry.state = RUNNING
        return entry

    result: QueueEntry | None = change(edit)
    return result


def update(number: int, **fields: Any) -> None:
    def edit(items: list[QueueEntry]) -> None:
        for entry in items:
            if entry.id == number:
                for key, value in fields.items():
                    setattr(entry, key, value)

    change(edit)
