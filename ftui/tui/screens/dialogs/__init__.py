"""Modal dialogs: file picker, save preset, Slurm script, notifications."""
