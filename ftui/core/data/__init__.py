"""Data sets: loading and tokenising rows, detecting formats, previews and the mask lens."""
