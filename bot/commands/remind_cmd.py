"""``marac-bot remind [--dry-run] [--today YYYY-MM-DD] [--json]`` (interface.md).

Runs the same policy as the running bot's daily job, for one day (MARAC_TRACK_FROM included;
MARAC_REMINDER_TIME only times the running bot's job). Without ``--dry-run`` the
reminders are logged and queued, then the queued email is delivered at once (relay or outbox
folder); Slack and Teams reminders stay queued for the running bot. Running it again for the
same day sends nothing: every reminder it sent is in the reminder log.
"""

from __future__ import annotations

import argparse
import json
import logging

from bot.channels.email.outbound import email_renderer
from bot.commands.common import show, today
from bot.settings import Settings
from handlers.reminders import ReminderDecision, run_reminders
from kernel import wording
from store.db import Store

logger = logging.getLogger(__name__)




def run(args: argparse.Namespace, settings: Settings) -> int:
    day = args.today or today(settings)
    store = Store.from_settings(settings)
    try:
        with store.transaction() as session:
            decisions = run_reminders(session, settings=settings, today=day,
                                      dry_run=args.dry_run,
                                      render_email=email_renderer(settings.mailbox_address))
        delivered = None
        if not args.dry_run and any(d.sent for d in decisions):
            delivered = _deliver(store, settings)
    finally:
        store.close()
    _print(decisions, as_json=args.json, dry_run=args.dry_run, delivered=delivered)
    return 0


def _deliver(store: Store, settings: Settings) -> int | None:
    """Send the queued email now, as the running bot's sender loop would."""
    try:
        from bot.delivery import Delivery
    except ImportError:  # the sender loop is not part of this installation
        logger.warning("bot.delivery is missing: the reminders stay queued for `marac-bot run`")
        return None
    delivery = Delivery.from_settings(store, settings)
    total = 0
    try:
        while (sent := delivery.deliver_due()) > 0:
            total += sent
    finally:
        delivery.close()
    return total


def _print(
    decisions: list[ReminderDecision], *, as_json: bool, dry_run: bool, delivered: int | None
) -> None:
    if as_json:
        show(json.dumps([d.to_dict() for d in decisions], indent=2, ensure_ascii=False))
        return
    for d in decisions:
        show(wording.remind_cli_line(marac=d.marac, quarter=d.quarter, stage=d.stage,
                                     contact=d.contact, role=d.role, channel=d.channel,
                                     sent=d.sent, dry_run=dry_run))
    show(wording.remind_cli_summary(len(decisions), dry_run=dry_run, delivered=delivered))
