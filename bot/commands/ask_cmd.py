"""``marac-bot ask "QUESTION" [--as EMAIL] [--json]`` (interface.md): a dashboard question,
answered exactly as chat and email answer it. Exit 0 answered, 1 not understood or refused,
or passed on to the data team (it needs a person: "our coordinator is on leave")."""

from __future__ import annotations

import argparse
import json
from datetime import date, datetime, time
from pathlib import Path

from bot.channels.cli.inbound import question_message
from bot.commands.common import make_folder, show, write_file
from bot.dispatch import Dispatcher
from bot.settings import Settings
from handlers.result import Outcome
from kernel.messages import Attachment
from store.db import Store
from store.types import utcnow


def run(args: argparse.Namespace, settings: Settings) -> int:
    now = _asked_at(args.today, settings)
    message = question_message(args.question, as_email=args.as_email, received_at=now)
    dispatcher = Dispatcher(settings, images=args.save is not None)
    store = Store.from_settings(settings)
    try:
        with store.transaction() as session:
            result = dispatcher.dispatch(session, message, now=now)
            # Answers only read: nothing to commit. A message passed on to the data team is
            # kept for them, as the reply says.
            if result.outcome != Outcome.FOR_THE_TEAM:
                session.rollback()
    finally:
        store.close()
    reply = result.reply
    assert reply is not None  # a question always gets an answer, a refusal or help
    saved = _save(reply.attachments, args.save) if args.save else []
    if args.json:
        show(json.dumps(reply.data, indent=2, ensure_ascii=False))
    else:
        show(reply.text)
        for path in saved:
            show(f"Wrote {path}")
    return 1 if result.outcome in UNANSWERED else 0


# The outcomes of a question that was not answered (exit code 1): one passed on to the
# data team is not answered either.
UNANSWERED = frozenset({Outcome.QUESTION_NOT_UNDERSTOOD, Outcome.QUESTION_REFUSED,
                        Outcome.FOR_THE_TEAM})


def _asked_at(day: date | None, settings: Settings) -> datetime:
    """Now, or noon of ``--today`` where the bot runs: the day the answer is as of."""
    if day is None:
        return utcnow()
    return datetime.combine(day, time(12), tzinfo=settings.tz)


def _save(attachments: tuple[Attachment, ...], folder: Path) -> list[Path]:
    make_folder(folder)
    paths = []
    for attachment in attachments:
        path = folder / Path(attachment.filename).name
        write_file(path, attachment.data)
        paths.append(path)
    return paths
