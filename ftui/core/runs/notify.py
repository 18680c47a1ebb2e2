"""Tell the user a run completed, failed or stalled: a desktop notification where available,
and the services the user configured (`ftui notify add URL`, any apprise URL: ntfy, Slack,
Discord, email, Telegram, Matrix, a webhook…).

The terminal bell is the UI's job (Textual's `App.bell()`, or `terminal_bell()` for plain
commands). `notify-send` is called with an argv list, its output discarded, never waited on.

A notification URL is a secret: it lives in the user config (`locations.notify_file()`, mode
0600) and nowhere else; never in a spec, a preset, a run directory, a log or a command line.
Messages and logs name a service by its number and kind, never by its URL. Sending happens in
the run's supervisor (`run_alerts.RunAlerts`), bounded by a timeout, and can never fail a run.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass, field, replace
from typing import Any, TextIO

from ftui.core import locations
from ftui.core.atomic import atomic_write_text

INSTALL_HINT = "pip install 'ftui[notify]'"
# What `ftui notify test` and the TUI's Notifications dialog send.
TEST_TITLE = "ftui: test"
TEST_BODY = "ftui test notification: this service will hear about your runs"


def desktop_notify(title: str, body: str, urgency: str = "normal") -> bool:
    """Send a desktop notification with notify-send if it is on PATH; True if one was sent."""
    exe = shutil.which("notify-send")
    if exe is None:
        return False
    try:
        subprocess.Popen(
            [exe, "--app-name=ftui", f"--urgency={urgency}", title, body],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError:
        return False
    return True


def terminal_bell(stream: TextIO | None = None) -> None:
    out = stream or sys.stderr
    if out.isatty():
        out.write("\a")
        out.flush()


def run_event_message(name: str, status: str, reason: str = "") -> tuple[str, str, str]:
    """(title, body, urgency) for a run that completed, failed or stalled."""
    if status == "completed":
        return f"ftui: {name} completed", "Training finished.", "normal"
    if status == "stalled":
        return f"ftui: {name} stalled", reason or "No new step for a while.", "critical"
    return f"ftui: {name} {status}", reason or f"The run {status}.", "critical"


class NotifyError(ValueError):
    pass


@dataclass(frozen=True)
class NotifySettings:
    """What `notify.yaml` holds. Keys besides `urls` may be edited by hand."""

    urls: tuple[str, ...] = ()
    # stalled: no new step for stall_factor x the median step time, and at least stall_min_s
    stall_factor: float = 10.0
    stall_min_s: float = 300.0
    timeout_s: float = 20.0  # one notification to all services gives up after this long
    extra: dict[str, Any] = field(default_factory=dict)


_NUMBERS = ("stall_factor", "stall_min_s", "timeout_s")


def load_settings() -> NotifySettings:
    """The user's notification settings; defaults (no URL) when the file does not exist."""
    from ftui.core.spec import SpecError, load_yaml_text

    path = locations.notify_file()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return NotifySettings()
    except OSError as exc:
        raise NotifyError(f"{path}: cannot read it ({exc.strerror})") from None
    try:
        data = load_yaml_text(text, str(path))
    except SpecError as exc:
        raise NotifyError(str(exc)) from None
    urls = data.get("urls") or []
    if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
        raise NotifyError(f"{path}: urls must be a list of URLs")
    values: dict[str, float] = {}
    for key in _NUMBERS:
        if key in data:
            value = data[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise NotifyError(f"{path}: {key} must be a number >= 0, got {value!r}")
            values[key] = float(value)
    rest = {k: v for k, v in data.items() if k not in ("urls", *_NUMBERS)}
    return NotifySettings(urls=tuple(urls), extra=rest, **values)


def save_settings(settings: NotifySettings) -> None:
    import yaml

    data: dict[str, Any] = {**settings.extra, "urls": list(settings.urls)}
    defaults = NotifySettings()
    for key in _NUMBERS:
        if getattr(settings, key) != getattr(defaults, key):
            data[key] = getattr(settings, key)
    header = "# ftui notification services (`ftui notify`): secrets, keep this file private.\n"
    text = header + yaml.safe_dump(data, sort_keys=False)
    atomic_write_text(locations.notify_file(), text, mode=0o600)


def _apprise() -> Any:
    try:
        import apprise
    except ImportError:
        raise NotifyError(f"notifications need apprise: {INSTALL_HINT}") from None
    # apprise logs what it sends to; those lines can hold a URL's parts, so they go nowhere.
    log = logging.getLogger("apprise")
    log.propagate = False
    log.handlers = [logging.NullHandler()]
    return apprise


def missing_apprise() -> str | None:
    """None when apprise imports; else the one line that says how to install it."""
    try:
        _apprise()
    except NotifyError as exc:
        return str(exc)
    return None


def service_name(url: str) -> str | None:
    """The apprise service a URL is for (JSON, ntfy, Discord…); None if apprise knows none."""
    plugin = _apprise().Apprise.instantiate(url)
    return str(plugin.service_name) if plugin is not None else None


def masked(url: str) -> str:
    """A URL as shown to the user: its scheme and a hint of the rest, never the secret part."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return f"…({len(url)} chars)"
    return f"{scheme}://{rest[:2]}…({len(rest)} chars)"


def add_url(url: str) -> tuple[int, str]:
    """Store a URL apprise understands; (its number, its service name)."""
    url = url.strip()
    name = service_name(url)
    if name is None:
        raise NotifyError(
            f"{masked(url)} is not a notification URL apprise knows "
            "(see https://github.com/caronc/apprise/wiki for the URL of each service)"
        )
    settings = load_settings()
    if url not in settings.urls:
        settings = replace(settings, urls=(*settings.urls, url))
        save_settings(settings)
    return settings.urls.index(url) + 1, name


def remove_url(number: int) -> str:
    """Forget URL number `number` (1-based, as `ftui notify list` shows); its masked form."""
    settings = load_settings()
    if not 1 <= number <= len(settings.urls):
        raise NotifyError(
            f"no notification URL number {number}: "
            + (f"there are {len(settings.urls)}" if settings.urls else "none is configured")
        )
    url = settings.urls[number - 1]
    save_settings(replace(settings, urls=settings.urls[: number - 1] + settings.urls[number:]))
    return masked(url)


def send(urls: tuple[str, ...], title: str, body: str, timeout_s: float = 20.0) -> list[str]:
    """Send one notification to every URL; the problems, one line each (empty: all sent).
    Never raises and never takes much longer than timeout_s: a slow service is left behind
    in a daemon thread. A problem names the service by number and kind, never its URL."""
    if not urls:
        return []
    try:
        apprise = _apprise()
    except NotifyError as exc:
        return [str(exc)]
    problems: list[str] = []

    def deliver() -> None:
        for number, url in enumerate(urls, 1):
            try:
                client = apprise.Apprise()
                if not client.add(url):
                    problems.append(f"service {number}: not a URL apprise knows")
                elif not client.notify(body=body, title=title):
                    kind = next((s.service_name for s in client), "?")
                    problems.append(f"service {number} ({kind}): sending failed")
            except Exception as exc:  # a plugin's bug must not reach the run
                problems.append(f"service {number}: {type(exc).__name__}")

    worker = threading.Thread(target=deliver, name="ftui-notify", daemon=True)
    worker.start()
    worker.join(timeout_s)
    if worker.is_alive():
        return [*problems, f"gave up after {timeout_s:.0f} s"]
    return problems
