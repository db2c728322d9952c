"""Building blocks for the reminder tests: a registry across the four nations, uploads put in
through the store's own recording path, and readers for what landed in the outbox."""

from __future__ import annotations

import email
import email.policy
import json
from datetime import UTC, date, datetime, time, timedelta
from email.message import EmailMessage
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.settings import Settings
from kernel.quarters import Quarter
from store.models import Contact, Marac, ReminderLog, Role, StoreFacts
from store.queue import OutboundItem
from store.registry import import_csv
from tests.store_support import record, report, row

LONDON = ZoneInfo("Europe/London")
MAILBOX = "marac@data.example"
# An installation with Slack and Teams configured: contacts who prefer them are reached there
# (without them a reminder goes by email; tests/test_unsendable.py).
SETTINGS = Settings(mailbox_address=MAILBOX, slack_bot_token="xoxb-test",
                    slack_signing_secret="test", teams_anonymous=True)

MARACS_CSV = """\
name,aliases,police_force_area,region,nation,local_authorities,adult_female_population
Croydon,,Metropolitan Police,London,England,London Borough of Croydon,160300
Leeds,,West Yorkshire Police,Yorkshire and the Humber,England,Leeds City Council,330000
Cardiff,,South Wales Police,Wales,Wales,Cardiff Council,150000
Glasgow,,Police Scotland,Scotland,Scotland,Glasgow City Council,260000
Belfast,,Police Service of Northern Ireland,Northern Ireland,Northern Ireland,Belfast,140000
"""

CONTACTS_CSV = """\
name,email,role,maracs,slack_user_id,teams_id,channels
Cara Croydon,cara@croydon.example,coordinator,Croydon,U0CARA,,email;slack
Chris Croydon,chris@croydon.example,chair,Croydon,,,
Lee Leeds,lee@leeds.example,coordinator,Leeds,,,
Lou Leeds,lou@leeds.example,chair,Leeds,,,
Cai Cardiff,cai@cardiff.example,coordinator,Cardiff,,,
Ceri Cardiff,ceri@cardiff.example,chair,Cardiff,,,
Gil Glasgow,gil@glasgow.example,coordinator,Glasgow,,aad-gil,teams
Gail Glasgow,gail@glasgow.example,chair,Glasgow,,,
Bea Belfast,bea@belfast.example,coordinator,Belfast,,,
Bob Belfast,bob@belfast.example,chair,Belfast,,,
Lena London,lena@region.example,manager,London,,,
Wyn Wales,wyn@region.example,manager,South Wales Police,,,
Nia National,nia@national.example,manager,*,,,
Ada Admin,ada@data.example,admin,*,,,
"""

# Before every quarter these tests chase (the first tracked one is then Q1 2023/24).
STORE_CREATED = date(2023, 4, 1)

NATIONS = {"Croydon": "England", "Leeds": "England", "Cardiff": "Wales",
           "Glasgow": "Scotland", "Belfast": "Northern Ireland"}


# Gil has chatted with the bot on Teams: a reminder can reach him there (without a stored
# conversation a bot cannot write to him, and he is reminded by email instead).
GIL_TEAMS_REFERENCE = {"conversation": {"id": "a:1on1-gil", "conversationType": "personal"},
                       "serviceUrl": "https://smba.trafficmanager.net/uk/", "channelId": "msteams",
                       "user": {"id": "29:gil", "aadObjectId": "aad-gil"}}


def load_four_nations(session: Session) -> None:
    for text in (MARACS_CSV, CONTACTS_CSV):
        result = import_csv(session, text)
        assert result.ok, result.summary()
    gil = session.scalar(select(Contact).where(Contact.email == "gil@glasgow.example"))
    assert gil is not None
    gil.teams_reference = GIL_TEAMS_REFERENCE
    backdate_store(session)
    session.commit()


def backdate_store(session: Session, created: date = STORE_CREATED) -> None:
    """Make the store as old as the quarters these tests run through: with MARAC_TRACK_FROM
    unset, tracking starts at the first quarter ending after the store was created."""
    facts = session.get(StoreFacts, 1)
    assert facts is not None  # recorded by the migration that made the table
    facts.created_at = datetime.combine(created, time(9, 0), tzinfo=UTC)
    session.flush()


def upload(session: Session, marac: str, quarter: Quarter, *, on: date) -> None:
    """Record a one-meeting return for ``marac`` and ``quarter``, arriving early on ``on``."""
    meeting = quarter.start + timedelta(days=14)
    arrived = datetime.combine(on, time(7, 0), tzinfo=LONDON).astimezone(UTC)
    record(session, report(row(2, marac, meeting), file=f"{marac}-{quarter.label}.xlsx"),
           sender="ada@data.example", now=arrived)


def contacts(session: Session, marac: str, role: Role) -> set[str]:
    """The emails of a Marac's contacts with this role, from the registry."""
    query = (
        select(Contact.email)
        .join(Contact.maracs)
        .where(Marac.name == marac, Contact.role == role.value)
    )
    return set(session.scalars(query))


def outbox(session: Session) -> list[OutboundItem]:
    return list(session.scalars(select(OutboundItem).order_by(OutboundItem.id)))


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def log_count(session: Session) -> int:
    return count(session, ReminderLog)


def parse_email(payload: bytes) -> EmailMessage:
    return cast(EmailMessage, email.message_from_bytes(payload, policy=email.policy.default))


def body_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return cast(str, cast(Any, part).get_content()).replace("\r\n", "\n")


def chat_payload(item: OutboundItem) -> dict[str, Any]:
    return cast(dict[str, Any], json.loads(item.payload))


def at_send_time(day: date) -> datetime:
    """09:30 London time on ``day``, in UTC: the moment the scheduler's run happens."""
    return datetime.combine(day, time(9, 30), tzinfo=LONDON).astimezone(UTC)
