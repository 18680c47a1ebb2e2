"""Widgets of the playground: the chat log, compare view, generation settings, GPU warning."""
