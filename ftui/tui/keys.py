"""Keys that every ftui app (the wizard, `ftui monitor`, `ftui runs`, `ftui chat`) shares."""

from __future__ import annotations

# The command palette, one key everywhere: ctrl+p (Textual's default) is the wizard's
# "previous step".
PALETTE_KEY = "ctrl+backslash"
