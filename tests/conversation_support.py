"""A registry, seeded returns and message builders for the conversation tests (issue 12):
messages are built as each channel's real converter builds them (raw RFC 822 bytes through the
email converter; a Bot Framework activity through the Teams converter and its prepare step) and
handed to the real dispatcher (bot/dispatch.py) on a real database.

The registry is the demo's London Maracs plus Welsh, Scottish and Yorkshire ones, so places
people name ("Swansea", "Police Scotland", "Wales") are real; Northern Ireland has no Marac and
Glasgow, Inverness, Bradford and Belfast are not registered at all.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from slack_sdk import WebClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from bot.channels.email.inbound import to_inbound as email_to_inbound
from bot.channels.slack.directory import SlackDirectory
from bot.channels.slack.inbound import to_inbound as slack_to_inbound
from bot.channels.slack.prepare import SlackPreparer
from bot.channels.teams.inbound import to_inbound as teams_to_inbound
from bot.channels.teams.prepare import TeamsPreparer
from bot.dispatch import Dispatcher
from bot.settings import Settings
from handlers.result import HandlerResult
from kernel.messages import InboundMessage
from kernel.quarters import Quarter
from store.db import Store
from store.registry import import_csv
from tests.store_support import record, report
from validation.columns import COUNT_KEYS
from validation.report import ParsedRow

DEMO = Path(__file__).resolve().parent.parent / "store" / "demo"
MAILBOX = "marac@data.example"
# Asked on 1 June 2025: Q4 2024/25 (Jan–Mar) ended and was due 28 Apr 2025; Q1 2025/26 runs.
TODAY = date(2025, 6, 1)
NOW = datetime(2025, 6, 1, 9, 30, tzinfo=UTC)

MORE_MARACS = """\
name,aliases,police_force_area,region,nation,local_authorities,adult_female_population
Cardiff,Caerdydd,South Wales Police,Wales,Wales,Cardiff Council,150000
Swansea,Abertawe,South Wales Police,Wales,Wales,Swansea Council,100000
Wrexham,,North Wales Police,Wales,Wales,Wrexham County Borough Council,55000
Edinburgh,,Police Scotland,Scotland,Scotland,City of Edinburgh Council,230000
Dundee,,Police Scotland,Scotland,Scotland,Dundee City Council,65000
Leeds,,West Yorkshire Police,Yorkshire and the Humber,England,Leeds City Council,330000
Kirklees,,West Yorkshire Police,Yorkshire and the Humber,England,Kirklees Council,180000
"""

LAMBETH = "lambeth.coordinator@example.org"
LAMBETH_AAD = "aad-lambeth"
CROYDON = "croydon.coordinator@example.org"
CARDIFF = "cardiff.coordinator@example.org"
DUNDEE = "dundee.coordinator@example.org"
DUAL = "two.maracs@example.org"  # coordinates Swansea and Wrexham
LONDON_MANAGER = "london.manager@example.org"
ADMIN = "data.team@example.org"  # the demo registry's admin
NEWCOMER = "new.coordinator@example.org"  # registered for Leeds today, never written before

MORE_CONTACTS = f"""\
name,email,role,maracs,slack_user_id,teams_id,channels
Lambeth coordinator,{LAMBETH},coordinator,Lambeth,ULAMBETH,{LAMBETH_AAD},email;teams
Cardiff coordinator,{CARDIFF},coordinator,Cardiff,UCARDIFF,aad-cardiff,email;teams
Croydon coordinator,{CROYDON},coordinator,Croydon,UCROYDON,aad-croydon,email;teams
Dundee coordinator,{DUNDEE},coordinator,Dundee,UDUNDEE,aad-dundee,email;teams
Swansea and Wrexham,{DUAL},coordinator,Swansea;Wrexham,UDUAL,aad-dual,email;teams
London manager,{LONDON_MANAGER},manager,London,ULONDON,aad-london,email;teams
Leeds newcomer,{NEWCOMER},coordinator,Leeds,UNEWCOMER,aad-newcomer,email;teams
"""
TEAMS_IDS = {
    LAMBETH: LAMBETH_AAD,
    CARDIFF: "aad-cardiff",
    DUNDEE: "aad-dundee",
    DUAL: "aad-dual",
    LONDON_MANAGER: "aad-london",
    NEWCOMER: "aad-newcomer",
    ADMIN: "aad-admin",
    CROYDON: "aad-croydon",
}

# Which Marac sent which quarter (three meetings each); everything else is missing.
SENT = {
    "Lambeth": ("Q2 2024/25", "Q3 2024/25", "Q4 2024/25"),
    "Croydon": ("Q3 2024/25", "Q4 2024/25"),
    "Cardiff": ("Q2 2024/25", "Q3 2024/25"),
    "Swansea": ("Q3 2024/25", "Q4 2024/25"),
    "Edinburgh": ("Q4 2024/25",),
    "Leeds": ("Q3 2024/25", "Q4 2024/25"),
}
CASES_PER_MEETING = 12


def settings(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, mailbox_address=MAILBOX, smtp_listen=None, http_listen=None)


def prepare(store: Store) -> None:
    """The registry (with a Teams id for each test contact) and the seeded returns. An
    import replaces a whole list, so the demo's lists are read and extended."""
    maracs = (DEMO / "maracs.csv").read_text("utf-8").rstrip("\n") + "\n"
    maracs += MORE_MARACS.split("\n", 1)[1]
    demo_contacts = (DEMO / "contacts.csv").read_text("utf-8").splitlines()
    ours = {line.split(",")[1] for line in MORE_CONTACTS.splitlines()[1:]} | {ADMIN}
    kept = [line for line in demo_contacts[1:] if line.strip() and line.split(",")[1] not in ours]
    contacts = "\n".join([demo_contacts[0], *kept]) + "\n" + MORE_CONTACTS.split("\n", 1)[1]
    contacts += f"Demo admin (data team),{ADMIN},admin,*,UADMIN,aad-admin,email;teams\n"
    with store.transaction() as session:
        for text in (maracs, contacts):
            result = import_csv(session, text)
            assert result.ok, result.summary()
        _seed(session)


def _seed(session: Session) -> None:
    for marac, quarters in SENT.items():
        for label in quarters:
            start = Quarter.from_label(label).start
            rows = [
                ParsedRow(
                    n + 2,
                    marac,
                    start + timedelta(days=20 * n + 3),
                    {k: None for k in COUNT_KEYS} | {"cases": CASES_PER_MEETING, "repeat_cases": 3},
                    marac=marac,
                )
                for n in range(3)
            ]
            record(
                session,
                report(*rows, file=f"{marac.lower()}-{label[:2]}.xlsx"),
                sender="data.team@example.org",
                now=datetime(2025, 5, 1, tzinfo=UTC),
            )


@contextmanager
def prepared_store(backend: str, tmp_dir: Path, pg_database_url: str | None) -> Iterator[Store]:
    """A store prepared once for a module of read-only conversations: a SQLite file, or a
    fresh schema of the session's PostgreSQL database (dropped afterwards)."""
    schema = None
    if backend == "sqlite":
        url = f"sqlite:///{tmp_dir / 'marac.db'}"
    else:
        assert pg_database_url is not None
        schema = f"c_{uuid.uuid4().hex[:12]}"
        with create_engine(pg_database_url).begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = (
            make_url(pg_database_url)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )
    store = Store.open(url)
    try:
        prepare(store)
        yield store
    finally:
        store.close()
        if schema is not None:
            with create_engine(pg_database_url or "").begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


# --- messages as the channels' converters make them -------------------------------------------

_count = iter(range(1, 1_000_000))


def email(
    text: str,
    *,
    sender: str = LAMBETH,
    subject: str = "Marac data",
    files: tuple[tuple[str, bytes, str], ...] = (),
    headers: dict[str, str] | None = None,
) -> InboundMessage:
    """An email as a mail client writes it, through the real email converter."""
    message = EmailMessage()
    message["From"] = f"Coordinator <{sender}>"
    message["To"] = f"Marac data <{MAILBOX}>"
    message["Subject"] = subject
    message["Date"] = format_datetime(NOW)
    message["Message-ID"] = f"<conv-{next(_count)}@example.org>"
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(text)
    for filename, data, content_type in files:
        maintype, _, subtype = content_type.partition("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return email_to_inbound(
        message.as_bytes(), mailbox_address=MAILBOX, trusted_authserv_id=None, received_at=NOW
    )


def teams(store: Store, text: str, *, sender: str = LAMBETH) -> InboundMessage:
    """A 1:1 Teams chat message, through the real Teams converter and prepare step."""
    user = TEAMS_IDS[sender]
    activity = {
        "type": "message",
        "id": f"m{next(_count)}",
        "timestamp": "2025-06-01T09:30:00.000Z",
        "serviceUrl": "https://smba.trafficmanager.net/uk/",
        "channelId": "msteams",
        "from": {"id": f"29:{user}", "aadObjectId": user},
        "recipient": {"id": "28:marac-bot", "name": "Marac data assistant"},
        "conversation": {
            "id": f"a:1on1-{user}",
            "conversationType": "personal",
            "tenantId": "tenant-1",
        },
        "channelData": {"tenant": {"id": "tenant-1"}},
        "text": text,
    }
    raw = json.dumps(activity).encode()
    return TeamsPreparer(store, 1024 * 1024).prepare(teams_to_inbound(raw, received_at=NOW))


def slack(store: Store, text: str, *, sender: str = LAMBETH) -> InboundMessage:
    """A Slack direct message, through the real Slack converter and prepare step (the sender
    is known by the registry's Slack id, so nothing calls Slack)."""
    user = "U" + TEAMS_IDS[sender].removeprefix("aad-").upper()
    ts = f"1748770000.{next(_count):06d}"
    event = {
        "type": "message",
        "channel": f"D{user}",
        "channel_type": "im",
        "user": user,
        "text": text,
        "ts": ts,
        "event_ts": ts,
    }
    body = {
        "token": "unused",
        "team_id": "TMARAC",
        "api_app_id": "AMARAC",
        "type": "event_callback",
        "event_id": f"Ev{ts}",
        "event_time": 1748770000,
        "event": event,
    }
    client = WebClient(token="xoxb-test", base_url="http://127.0.0.1:9/")  # never called
    preparer = SlackPreparer(client, SlackDirectory(store, client), "xoxb-test", 1024 * 1024)
    return preparer.prepare(slack_to_inbound(json.dumps(body).encode(), received_at=NOW))


@dataclass(frozen=True)
class Said:
    """What the dispatcher made of one message."""

    outcome: str
    text: str
    data: dict[str, Any]
    attachments: tuple[str, ...]
    files: tuple[bytes, ...] = ()


def dispatch(store: Store, settings_: Settings, message: InboundMessage) -> Said:
    """Hand ``message`` to the real dispatcher in one transaction, as the worker does."""
    dispatcher = Dispatcher(settings_, images=False)
    with store.transaction() as session:
        result: HandlerResult = dispatcher.dispatch(session, message, now=NOW)
    reply = result.reply
    if reply is None:
        return Said(result.outcome.value, "", {}, ())
    return Said(
        result.outcome.value,
        reply.text,
        dict(reply.data),
        tuple(a.filename for a in reply.attachments),
        tuple(a.data for a in reply.attachments),
    )
