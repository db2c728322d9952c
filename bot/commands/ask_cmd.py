"""``marac-bot ask "QUESTION" [--as EMAIL] [--json]`` (interface.md): a dashboard question,
answered exactly as chat and email answer it. Exit 0 answered, 1 not understood or refused."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from bot.commands.common import iso_date, today
from bot.settings import Settings
from handlers.questions import Answer, answer_question
from store.db import Store
from store.registry import find_contact


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "ask",
        help="answer a dashboard question",
        description="Answer a question about Marac data returns (try 'help'), exactly as the "
        "chat channels and email would. Without --as it asks as the local operator, who may "
        "ask about every Marac. Exit code 0: answered; 1: not understood or refused.",
    )
    parser.add_argument("question", metavar="QUESTION", help='e.g. "has Croydon uploaded Q3?"')
    parser.add_argument("--as", dest="as_email", metavar="EMAIL",
                        help="ask as this registered contact: their role decides what they "
                        "may ask about")
    parser.add_argument("--json", action="store_true",
                        help='print {"intent", "answer", "data", ...} as JSON')
    parser.add_argument("--save", type=Path, metavar="DIR",
                        help="write what the answer attaches (the grid image, a template) "
                        "into DIR")
    parser.add_argument("--today", type=iso_date, metavar="YYYY-MM-DD",
                        help="answer as on this day (default: today)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    store = Store.from_settings(settings)
    try:
        with store.sessions() as session:
            asker = find_contact(session, args.as_email) if args.as_email else None
            answer = answer_question(
                session,
                args.question,
                asker=asker,
                settings=settings,
                today=args.today or today(settings),
                is_operator=not args.as_email,
                images=args.save is not None,
            )
    finally:
        store.close()
    saved = _save(answer, args.save) if args.save else []
    if args.json:
        print(json.dumps(answer.to_json(), indent=2, ensure_ascii=False))
    else:
        print(answer.text)
        for path in saved:
            print(f"Wrote {path}")
    return 0 if answer.answered else 1


def _save(answer: Answer, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for attachment in answer.attachments:
        path = folder / Path(attachment.filename).name
        path.write_bytes(attachment.data)
        paths.append(path)
    return paths
