"""``python -m bot`` is ``marac-bot``."""

import sys

from bot.cli import main

sys.exit(main())
