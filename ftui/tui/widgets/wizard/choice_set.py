"""ChoiceSet: a RadioSet whose highlight starts on the pressed button.

RadioSet's keyboard highlight starts on its first button whichever is pressed, so the Method
step highlighted "Full fine-tune" while LoRA was selected. Here the highlighted line is the
spec's value; arrows move it as before, and a press moves it to the pressed button.
"""

from __future__ import annotations

from textual.widgets import RadioSet


class ChoiceSet(RadioSet):
    def on_mount(self) -> None:
        self.call_after_refresh(self._highlight_pressed)  # after RadioSet's own mount handler

    def _highlight_pressed(self) -> None:
        if self.pressed_index >= 0:
            self._selected = self.pressed_index  # RadioSet's highlight has no public setter
