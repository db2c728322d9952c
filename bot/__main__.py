"""``python -m bot`` is ``marac-bot``."""

import sys

from bot.cli import console

sys.exit(console())
