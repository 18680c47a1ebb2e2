"""`ftui notify add|list|rm|test`: where a run's supervisor sends its notifications.

A URL is a secret: `ftui notify add` with no URL reads it from stdin (hidden when a terminal),
so it never sits in the shell history or a process list; it is stored only in the user config.
"""

from __future__ import annotations

import argparse
import sys

from ftui.commands._common import fail


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "notify",
        help="notification services for finished, failed and stalled runs (apprise URLs)",
        description="Runs notify every service added here when they complete, fail, stop, "
        "hit a non-finite loss or stall. Any apprise URL works: ntfy://TOPIC, "
        "discord://ID/TOKEN, slack://..., mailto://..., tgram://..., json://HOST/PATH.",
    )
    ps = p.add_subparsers(dest="notify_command", metavar="ACTION", required=True)
    add = ps.add_parser("add", help="add a service; with no URL it is read from stdin")
    add.add_argument("url", nargs="?", metavar="URL", help="an apprise URL (or - for stdin)")
    add.set_defaults(handler=cmd_add)
    ps.add_parser("list", help="the services (URLs masked)").set_defaults(handler=cmd_list)
    rm = ps.add_parser("rm", help="remove service number N (as `list` shows)")
    rm.add_argument("number", type=int, metavar="N")
    rm.set_defaults(handler=cmd_rm)
    ps.add_parser("test", help="send a test notification to every service").set_defaults(
        handler=cmd_test
    )


def _read_url() -> str:
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass("notification URL (hidden): ")
    return sys.stdin.readline()


def cmd_add(args: argparse.Namespace) -> int:
    from ftui.core import locations
    from ftui.core.runs.notify import NotifyError, add_url, masked

    url = args.url if args.url not in (None, "-") else _read_url()
    if not url.strip():
        return fail("no URL given: `ftui notify add URL`, or the URL on stdin")
    try:
        number, service = add_url(url)
    except NotifyError as exc:
        return fail(str(exc))
    print(f"{number}  {service}  {masked(url.strip())}  (stored in {locations.notify_file()})")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from ftui.core import locations
    from ftui.core.runs.notify import NotifyError, load_settings, masked, service_name

    try:
        settings = load_settings()
        if not settings.urls:
            print("no notification service: add one with `ftui notify add URL`")
            return 0
        for number, url in enumerate(settings.urls, 1):
            print(f"{number}  {service_name(url) or '?':12} {masked(url)}")
    except NotifyError as exc:
        return fail(str(exc))
    stall = f"{settings.stall_factor:g} x the median step time, at least {settings.stall_min_s:g} s"
    print(f"stalled means no new step for {stall} ({locations.notify_file()})")
    return 0


def cmd_rm(args: argparse.Namespace) -> int:
    from ftui.core.runs.notify import NotifyError, remove_url

    try:
        print(f"removed {remove_url(args.number)}")
    except NotifyError as exc:
        return fail(str(exc))
    return 0


def cmd_test(args: argparse.Namespace) -> int:
    from ftui.core.runs.notify import TEST_BODY, TEST_TITLE, NotifyError, load_settings, send

    try:
        settings = load_settings()
    except NotifyError as exc:
        return fail(str(exc))
    if not settings.urls:
        return fail("no notification service to test: add one with `ftui notify add URL`")
    problems = send(settings.urls, TEST_TITLE, TEST_BODY, settings.timeout_s)
    if problems:
        return fail(problems, code=1)
    print(f"sent to {len(settings.urls)} service(s)")
    return 0
