"""A run directory and what is read from it: events, status, checkpoints, logs, failures, metrics."""
