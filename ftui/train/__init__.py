"""What torchrun runs: `python -m ftui.train CONFIG`. Imports torch; never textual."""
