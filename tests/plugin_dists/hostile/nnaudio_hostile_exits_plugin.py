"""A plugin that calls sys.exit while it is imported."""
import sys

sys.exit("hostile plugin: exit at import")
