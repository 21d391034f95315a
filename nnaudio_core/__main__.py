"""``python -m nnaudio_core``: the ``nnaudio`` command."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
