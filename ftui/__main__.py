from ftui.cli import entry

raise SystemExit(entry())
