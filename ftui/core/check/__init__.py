"""Before a run: preflight checks, the memory estimate and the measured memory probe."""
