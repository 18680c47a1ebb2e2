"""The headless domain: spec, presets, data, templates, launch, runs. Never imports textual."""
