"""What every ftui app (the wizard, `ftui monitor`, `ftui runs`, `ftui chat`) shares."""

from __future__ import annotations

from typing import Any

from textual.app import App

from ftui.core.locations import screenshots_dir

# The command palette, one key everywhere: ctrl+p (Textual's default) is the wizard's
# "previous step".
PALETTE_KEY = "ctrl+backslash"


class FtuiBaseApp(App[Any]):
    COMMAND_PALETTE_BINDING = PALETTE_KEY

    def action_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        """Save into a folder that exists (Textual's default, ~/Downloads, may not); the
        toast says where."""
        self.deliver_screenshot(filename, path or str(screenshots_dir()))
