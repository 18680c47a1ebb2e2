"""ftui: a terminal UI that walks you through fine-tuning an LLM and runs it for real."""

__version__ = "0.1.0"
