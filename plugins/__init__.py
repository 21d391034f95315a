"""Built-in nnaudio-core transforms, installed as ``nnaudio_plugins``.

Each module is one plugin, declared in the ``nnaudio.transforms`` entry-point group exactly like a
third-party plugin; the core has no special knowledge of them.
"""
