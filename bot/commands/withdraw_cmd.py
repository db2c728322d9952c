"""``marac-bot withdraw SUBMISSION [--as EMAIL] [--reason TEXT]`` (interface.md): withdraw a
submission as the local operator (the data team) or as a registered contact, with that contact's
rights; tell its submitter, print what became of each meeting (issue 13). Exit 0 when withdrawn;
1 when refused (no such submission, already withdrawn, not allowed to, unknown ``--as``)."""

from __future__ import annotations

import argparse
import sys

from bot.commands.common import show, today
from bot.settings import Settings
from bot.trust.notice import tell_submitter
from handlers.withdraw import OPERATOR, Refusal, withdraw, withdrawn_text
from kernel import wording
from store.db import Store
from store.registry import find_contact
from store.types import utcnow


def run(args: argparse.Namespace, settings: Settings) -> int:
    now = utcnow()
    store = Store.from_settings(settings)
    try:
        with store.transaction() as session:
            by = find_contact(session, args.as_email) if args.as_email else None
            if args.as_email and by is None:
                print(wording.withdraw_unknown_asker(args.as_email), file=sys.stderr)
                return 1
            done = withdraw(session, args.submission, by=by, today=today(settings),
                            due_days=settings.due_days, now=now)
            if not isinstance(done, Refusal):
                tell_submitter(session, done, by=by.email if by else OPERATOR, now=now,
                               settings=settings, reason=args.reason)
    finally:
        store.close()
    if isinstance(done, Refusal):
        print(done.text(), file=sys.stderr)
        return 1
    show(withdrawn_text(done, tz=settings.tz))
    return 0
