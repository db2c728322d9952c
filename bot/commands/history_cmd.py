"""``marac-bot history MARAC [DATE|QUARTER] [--as-of DATE] [--json]``: every version of a
Marac's meetings and where each came from (issue 13). Exit codes as interface.md: 0 answered
(also "nothing recorded", which is an answer); 1 an unknown Marac; 2 a usage error (a bad date)."""

from __future__ import annotations

import argparse
import json
import sys

from bot.commands.common import fail_usage, show, today
from bot.settings import Settings
from handlers.history import end_of_day, period_of, stories
from kernel import wording
from reports.history_text import history_json, history_text
from store.db import Store
from store.history import find_marac


def run(args: argparse.Namespace, settings: Settings) -> int:
    period = period_of(args.period, today=today(settings))
    if period is None:
        return fail_usage(f"{args.period!r} is neither a day (2024-10-03) nor a quarter "
                          "(Q3 2024/25)")
    when = end_of_day(args.as_of, settings.tz) if args.as_of else None
    store = Store.from_settings(settings)
    try:
        with store.sessions() as session:
            marac, suggestions = find_marac(session, args.marac)
            if marac is None:
                print(f"marac-bot: {wording.history_unknown_marac(args.marac, suggestions)}",
                      file=sys.stderr)
                return 1
            found = stories(session, marac.id, period)
            name = marac.name
    finally:
        store.close()
    if when is not None:
        found = [s for s in found if s.versions and s.versions[0].recorded_at <= when]
    if args.json:
        show(json.dumps(history_json(found, as_of=when), indent=2, ensure_ascii=False))
    elif found:
        show(history_text(found, tz=settings.tz, as_of=when, as_of_day=args.as_of))
    else:
        show(wording.history_empty(name, period.label))
    return 0
