"""The screen of each wizard step, by its step id (ftui/tui/steps.py holds their order,
titles and fields; it names no screen, since every screen imports it)."""

from __future__ import annotations

from ftui.tui.screens.wizard.base import StepScreen
from ftui.tui.screens.wizard.data import DataStepScreen
from ftui.tui.screens.wizard.hardware import HardwareScreen
from ftui.tui.screens.wizard.method import MethodScreen
from ftui.tui.screens.wizard.model import ModelScreen
from ftui.tui.screens.wizard.review import ReviewScreen
from ftui.tui.screens.wizard.start import StartScreen
from ftui.tui.screens.wizard.template import TemplateStepScreen
from ftui.tui.screens.wizard.training import TrainingScreen

STEP_SCREENS: dict[str, type[StepScreen]] = {
    screen.STEP_ID: screen
    for screen in (
        StartScreen,
        HardwareScreen,
        ModelScreen,
        DataStepScreen,
        TemplateStepScreen,
        MethodScreen,
        TrainingScreen,
        ReviewScreen,
    )
}
