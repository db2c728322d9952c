"""``marac-bot withdraw SUBMISSION [--reason TEXT]``: withdraw a submission as the local operator
(the data team), tell its submitter, print what became of each meeting (issue 13). Exit 0; 1 if
it was already withdrawn; 2 if there is no such submission."""

from __future__ import annotations

import argparse
import sys

from bot.commands.common import fail_usage, today
from bot.settings import Settings
from bot.trust.notice import tell_submitter
from handlers.withdraw import OPERATOR, Refusal, Refused, withdraw, withdrawn_text
from store.db import Store
from store.types import utcnow


def run(args: argparse.Namespace, settings: Settings) -> int:
    now = utcnow()
    store = Store.from_settings(settings)
    try:
        with store.transaction() as session:
            done = withdraw(session, args.submission, by=None, today=today(settings),
                            due_days=settings.due_days, now=now)
            if not isinstance(done, Refusal):
                tell_submitter(session, done, by=OPERATOR, now=now, settings=settings,
                               reason=args.reason)
    finally:
        store.close()
    if isinstance(done, Refusal):
        if done.reason is Refused.NOT_FOUND:
            return fail_usage(done.text())
        print(done.text(), file=sys.stderr)
        return 1
    print(withdrawn_text(done, tz=settings.tz))
    return 0
