"""Bundled pipeline specs (YAML); list them with nnaudio_core.bundled_specs()."""
