"""``python -m nnaudio_core``: the ``nnaudio`` command (:mod:`nnaudio_core.app.cli`)."""

import sys

from .app.cli import main

if __name__ == "__main__":
    sys.exit(main())
