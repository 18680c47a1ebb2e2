"""Widgets of the wizard steps: forms, GPU tables, column mapper, mask lens, memory and probe panels."""
