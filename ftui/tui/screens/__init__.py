"""Screens: the wizard steps (wizard/), the monitor, runs list, playground and export, and dialogs/."""
