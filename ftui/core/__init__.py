"""The headless domain (never imports textual or rich); one concept per package, see docs/architecture.md."""
