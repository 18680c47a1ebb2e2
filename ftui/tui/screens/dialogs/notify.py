"""Notifications (ctrl+o on the Review step): the services a detached run's supervisor notifies
when it completes, fails, stops or stalls; the same store and checks as `ftui notify`.

A URL is a secret: it is typed into a password Input, stored by `notify.add_url` (the user
config, mode 0600) and then only ever shown masked; the Input is cleared once it is saved.
"Send a test" runs `notify.send` in a thread worker, so a slow service never blocks the UI.
"""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from ftui.core.runs import notify


class NotifyDialog(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("delete", "remove", "Remove", show=False),
    ]

    def __init__(self) -> None:
        super().__init__(id="notify-dialog")

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("Notifications", classes="section-title")
            yield Static(
                "A detached run notifies these services when it completes, fails, stops, "
                "hits a non-finite loss or stalls. Any apprise URL: ntfy://TOPIC, "
                "discord://ID/TOKEN, mailto://…, json://HOST/PATH.",
                classes="field-help",
            )
            yield OptionList(id="notify-services")
            yield Input(
                id="notify-url",
                password=True,
                placeholder="an apprise URL; enter adds it",
                compact=True,
            )
            with Horizontal(id="notify-actions"):
                yield Button("Add", id="notify-add")
                yield Button("Remove  del", id="notify-remove")
                yield Button("Send a test", id="notify-test")
                yield Button("Close  esc", id="notify-close")
            yield Static("", id="notify-status")

    def on_mount(self) -> None:
        missing = notify.missing_apprise()
        if missing is not None:
            for widget in ("#notify-url", "#notify-add", "#notify-test"):
                self.query_one(widget).disabled = True
            self._say(missing, error=True)
        self._refresh()
        self.query_one("#notify-url" if missing is None else "#notify-close").focus()

    def _say(self, line: str, error: bool = False) -> None:
        status = self.query_one("#notify-status", Static)
        status.update(Text(line))  # plain text: `[notify]` is no markup tag
        status.set_class(error, "-error")

    def _refresh(self) -> None:
        """The stored services, masked; `ftui notify list`'s numbers."""
        services = self.query_one("#notify-services", OptionList)
        services.clear_options()
        try:
            urls = notify.load_settings().urls
        except notify.NotifyError as exc:
            self._say(str(exc), error=True)
            return
        known = notify.missing_apprise() is None
        for number, url in enumerate(urls, 1):
            kind = (notify.service_name(url) if known else None) or "?"
            line = Text(f"{number}  {kind:10} {notify.masked(url)}")
            services.add_option(Option(line, id=str(number)))
        if not urls:
            services.add_option(Option("(no service yet: add an apprise URL below)", disabled=True))
        self.query_one("#notify-remove", Button).disabled = not urls
        self.query_one("#notify-test", Button).disabled = not (urls and known)

    @on(Input.Submitted, "#notify-url")
    @on(Button.Pressed, "#notify-add")
    def _add(self, event: Input.Submitted | Button.Pressed) -> None:
        event.stop()
        field = self.query_one("#notify-url", Input)
        url = field.value.strip()
        if not url:
            self._say("no URL given: type an apprise URL, e.g. ntfy://TOPIC", error=True)
            return
        try:
            number, kind = notify.add_url(url)
        except notify.NotifyError as exc:
            self._say(str(exc), error=True)  # names the URL masked, never whole
            return
        field.value = ""  # the secret leaves the screen once stored
        self._refresh()
        self._say(f"Added service {number} ({kind}): {notify.masked(url)}")

    @on(Button.Pressed, "#notify-remove")
    def action_remove(self) -> None:
        option = self.query_one("#notify-services", OptionList).highlighted_option
        if option is None or option.id is None:
            self._say("select a service in the list to remove it", error=True)
            return
        try:
            gone = notify.remove_url(int(option.id))
        except notify.NotifyError as exc:
            self._say(str(exc), error=True)
            return
        self._refresh()
        self._say(f"Removed {gone}")

    @on(Button.Pressed, "#notify-test")
    def _test(self) -> None:
        self.query_one("#notify-test", Button).disabled = True
        self._say("Sending a test notification…")
        self._send_test()

    @work(thread=True, exclusive=True, group="notify-test")
    def _send_test(self) -> None:
        try:
            settings = notify.load_settings()
        except notify.NotifyError as exc:
            self.app.call_from_thread(self._tested, [str(exc)], 0)
            return
        problems = notify.send(
            settings.urls, notify.TEST_TITLE, notify.TEST_BODY, settings.timeout_s
        )
        self.app.call_from_thread(self._tested, problems, len(settings.urls))

    def _tested(self, problems: list[str], count: int) -> None:
        if not self.is_attached:
            return
        self._refresh()
        if problems:
            self._say("Test not delivered: " + "; ".join(problems), error=True)
        else:
            self._say(f"Test delivered to {count} service(s)")

    @on(Button.Pressed, "#notify-close")
    def action_close(self) -> None:
        self.dismiss(None)
