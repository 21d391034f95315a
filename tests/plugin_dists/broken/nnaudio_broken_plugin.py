"""A plugin whose import fails: the registry must warn and load the others."""

raise ImportError("this example plugin needs a package that is not installed (on purpose)")
