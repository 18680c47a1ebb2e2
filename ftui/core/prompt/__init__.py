"""Prompt templates: rendering a conversation into trained and masked text, and checking the choice."""
