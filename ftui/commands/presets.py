"""`ftui presets list|show|save|rm`."""

from __future__ import annotations

import argparse

from ftui.commands._common import fail


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("presets", help="built-in and user presets")
    ps = p.add_subparsers(dest="presets_command", metavar="ACTION", required=True)
    ps.add_parser("list", help="list presets").set_defaults(handler=cmd_list)
    show = ps.add_parser("show", help="print a preset's YAML")
    show.add_argument("name")
    show.set_defaults(handler=cmd_show)
    save = ps.add_parser("save", help="save SPEC as a user preset")
    save.add_argument("name")
    save.add_argument("spec", metavar="SPEC")
    save.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    save.set_defaults(handler=cmd_save)
    rm = ps.add_parser("rm", help="remove a user preset")
    rm.add_argument("name")
    rm.set_defaults(handler=cmd_rm)


def cmd_list(args: argparse.Namespace) -> int:
    from ftui.core.presets import list_presets

    for info in list_presets():
        kind = "built-in" if info.builtin else "user"
        print(f"{info.name:32} {kind:9} {info.summary}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from ftui.core.presets import preset_text
    from ftui.core.spec import SpecError

    try:
        print(preset_text(args.name), end="")
    except SpecError as exc:
        return fail(exc.problems)
    return 0


def cmd_save(args: argparse.Namespace) -> int:
    from ftui.core.presets import resolve_spec, save_preset
    from ftui.core.spec import SpecError

    try:
        spec = resolve_spec(args.spec, args.overrides)
        path = save_preset(args.name, spec, header=f"ftui run {args.name}")
    except SpecError as exc:
        return fail(exc.problems)
    print(path)
    return 0


def cmd_rm(args: argparse.Namespace) -> int:
    from ftui.core.presets import remove_preset
    from ftui.core.spec import SpecError

    try:
        print(f"removed {remove_preset(args.name)}")
    except SpecError as exc:
        return fail(exc.problems)
    return 0
