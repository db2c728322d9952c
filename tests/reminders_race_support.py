"""What each racing reminder process runs (importable, for multiprocessing's spawn method)."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.channels.email.outbound import email_renderer
from bot.scheduler import run_tick
from handlers.reminder_policy import ReminderPolicy
from handlers.reminders import run_reminders
from store.db import Store
from tests.reminders_support import SETTINGS

# (Marac, quarter, stage, contact, channel, sent): plain data, so it pickles across processes.
DecisionRow = tuple[str | None, str, str, str, str, bool]


def remind_in_process(
    url: str, days: list[str], use_tick: bool, start: Any, results: Any
) -> None:
    """For each day: wait at ``start`` (a Barrier), run its reminders, report the decisions."""
    store = Store.open(url, upgrade_schema=False)
    try:
        policy = ReminderPolicy.from_settings(SETTINGS)
        for day in days:
            start.wait(timeout=60)
            today = date.fromisoformat(day)
            if use_tick:
                decisions = run_tick(store, SETTINGS, policy, today=today)
            else:
                with store.transaction() as session:
                    decisions = run_reminders(session, settings=SETTINGS, today=today,
                                              dry_run=False,
                                              render_email=email_renderer(SETTINGS.mailbox_address))
            rows: list[DecisionRow] = [
                (d.marac, d.quarter, d.stage, d.contact, d.channel, d.sent) for d in decisions
            ]
            results.put((day, rows, None))
    except BaseException as exc:  # reported to the test, which fails on it
        results.put((None, None, repr(exc)))
    finally:
        store.close()
