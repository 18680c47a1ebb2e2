"""Reusable widgets, by the screen family that uses them. Each posts past-tense messages."""
