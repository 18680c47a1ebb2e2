"""Reusable wizard widgets. Each posts past-tense messages; parents set attributes on it."""
