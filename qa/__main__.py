"""``python -m qa ...`` is the ``qa`` command."""

import sys

from .cli import run

sys.exit(run())
