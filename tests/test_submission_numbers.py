"""The submission numbers a reply names (issue 13), taken from what was just recorded.

Recording returns each file's submission, so the reply names them without reading them back
(issue 14). What the read made sure of still holds: each submission once, in the order
recorded, and only the sender's own, even when someone else's message had the same Message-ID.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from bot.dispatch import Dispatcher
from bot.settings import Settings
from handlers.withdraw import ids_note
from kernel.messages import XLSX_TYPE, Attachment, InboundMessage, ThreadRef
from kernel.quarters import Quarter
from store.db import Store
from tests.dispatch_support import COORDINATOR, JANE, MAILBOX, fixture, load_registry
from tests.store_support import load_registry as load_store_registry
from tests.store_support import record, report, row

NOW = datetime.fromisoformat("2025-01-10T10:00:00+00:00")
CLEAN = fixture("clean_libreoffice.xlsx").data
OTHER = fixture("children_inconsistent.xlsx").data


def _reply(store: Store, tmp_path: Path, sender: str, files: dict[str, bytes],
           key: str) -> str:
    message = InboundMessage(
        channel="email", sender=sender, thread=ThreadRef("email", sender), text="Our return",
        attachments=tuple(Attachment(n, d, XLSX_TYPE) for n, d in files.items()),
        received_at=NOW, dedupe_key=key)
    settings = Settings(data_dir=tmp_path / "data", mailbox_address=MAILBOX,
                        smtp_listen=None, http_listen=None)
    with store.transaction() as session:
        result = Dispatcher(settings).dispatch(session, message, now=NOW)
    assert result.reply is not None
    return " ".join(result.reply.text.split())


def _named(text: str) -> list[str]:
    found = re.search(r"Recorded as (.*?)\.(?: |$)", text)
    return re.findall(r"submission \d+ \([^)]*\)", found.group(1)) if found else []


def test_each_file_is_named_once_in_the_order_recorded(db_store: Store, tmp_path: Path) -> None:
    with db_store.transaction() as session:
        load_registry(session)
    text = _reply(db_store, tmp_path, COORDINATOR,
                  {"a.xlsx": CLEAN, "b.xlsx": OTHER, "a-again.xlsx": CLEAN}, "<m1@example.org>")
    # The third file is the first's bytes under the same message: its submission, named once.
    assert _named(text) == ["submission 1 (a.xlsx)", "submission 2 (b.xlsx)"]


def test_a_message_id_reused_by_someone_else_names_none_of_theirs(
    db_store: Store, tmp_path: Path
) -> None:
    with db_store.transaction() as session:
        load_registry(session)
    first = _reply(db_store, tmp_path, COORDINATOR, {"a.xlsx": CLEAN}, "<same@example.org>")
    assert _named(first) == ["submission 1 (a.xlsx)"]
    again = _reply(db_store, tmp_path, JANE, {"jane.xlsx": CLEAN}, "<same@example.org>")
    assert "submission 1" not in again and _named(again) == []


def test_withdrawing_is_the_coordinators_until_the_quarter_is_due(db_session: Session) -> None:
    """On the due day the reply still says WITHDRAW; the day after, ask the data team."""
    load_store_registry(db_session)
    submission = record(db_session, report(row(2, "Croydon", date(2024, 10, 3))))
    due = Quarter(2024, 3).due_date(28)
    notes = {day: ids_note(db_session, recorded=[(submission.id, "croydon.xlsx")], soft=False,
                           today=day, due_days=28)
             for day in (due, due + timedelta(days=1))}
    assert f"Reply WITHDRAW {submission.id} by" in (notes[due] or "")
    assert "ask the data team" in (notes[due + timedelta(days=1)] or "")
    assert ids_note(db_session, recorded=[], soft=False, today=due, due_days=28) is None
