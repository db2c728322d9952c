"""``marac-bot submit FILE… --sender EMAIL [--quarter Q] [--confirm] [--json]``: the CLI as a
channel. The files take the very path an emailed file takes (handlers.submission)."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from typing import Any

from bot.channels.cli.inbound import submission_message
from bot.commands.common import (
    UsageError,
    existing_files,
    fail_usage,
    parse_quarter,
    show,
    use_colour,
)
from bot.dispatch import Dispatcher
from bot.settings import Settings
from kernel import wording
from reports.text import render_reports
from store.db import Store
from store.types import utcnow
from validation.report import FileReport

# A meeting sent again with different figures: held until confirmed (spec §4).
HELD_CHANGE = "changed-from-previous"


def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        paths = existing_files(args.files)
        parse_quarter(args.quarter, settings)  # a quarter the bot cannot read is a usage error
    except UsageError as exc:
        return fail_usage(str(exc))
    now = utcnow()
    message = submission_message(paths, sender=args.sender, quarter_text=args.quarter,
                                 confirm=args.confirm, received_at=now)
    store = Store.from_settings(settings)
    try:
        with store.transaction() as session:  # one message, one transaction, as by email
            result = Dispatcher(settings).dispatch(session, message, now=now)
    finally:
        store.close()
    if result.outcome == "refused-unknown-sender":
        print(wording.unknown_sender_cli(message.sender), file=sys.stderr)
        if args.json:  # interface.md: one object per file, whatever became of it
            refusals = [_refused(a.filename, message.sender, settings.data_team_contact)
                        for a in message.attachments]
            show(json.dumps(refusals, indent=2, ensure_ascii=False))
        return 1
    reports = [_told_how_to_confirm(r) for r in result.reports]
    if args.json:
        show(json.dumps([r.to_dict() for r in reports], indent=2, ensure_ascii=False))
    else:
        show(render_reports(reports, colour=use_colour(), checked_only=False))
    return 1 if any(r.has_hard for r in reports) else 0


def _told_how_to_confirm(report: FileReport) -> FileReport:
    """The report with each held change saying how to confirm it here: run the command again
    with --confirm (spec §4; email's reply says "Reply CONFIRM", chat has a button)."""
    if not any(i.code == HELD_CHANGE for i in report.issues):
        return report
    issues = [replace(i, params={**i.params, "how": wording.CLI_HOW_TO_CONFIRM})
              if i.code == HELD_CHANGE else i for i in report.issues]
    return replace(report, issues=issues)


def _refused(filename: str, sender: str, contact: str) -> dict[str, Any]:
    """A file from an unknown sender, in the shape of ``FileReport.to_dict``: rejected, with
    the refusal as its one issue (its code is the outcome recorded for the submission)."""
    return {
        "file": filename, "edition": None, "status": "rejected",
        "rows_total": 0, "rows_accepted": 0, "rows_rejected": 0, "rows_held": 0,
        "rows_unchanged": 0, "maracs": [], "quarters": [],
        "issues": [{"code": "refused-unknown-sender", "severity": "hard", "sheet": None,
                    "cell": None, "row": None, "column": None, "value": sender,
                    "message": wording.unknown_sender_issue(contact)}],
    }
