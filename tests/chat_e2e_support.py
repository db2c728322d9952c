"""Helpers shared by the Slack and Teams end-to-end tests: a prepared registry, HTTP posts to
the running bot, and the answer the email channel gives to the same question (the reference a
chat answer must match).
"""

from __future__ import annotations

import smtplib
import urllib.error
import urllib.request
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from bot.settings import Settings
from store.db import Store
from store.registry import import_csv, load_demo_registry
from tests.run_e2e_support import FIXTURES, MAILBOX, read_reply
from tests.smtp_support import HOST, SmtpSink

WAIT = 30.0
CHAT_FIXTURES = FIXTURES / "chat"
LAMBETH = "lambeth.coordinator@example.org"
CROYDON = "croydon.coordinator@example.org"
CROYDON_CHAIR = "croydon.chair@example.org"
LAMBETH_SLACK, CROYDON_SLACK = "ULAMBETH", "UCROYDON"
LAMBETH_AAD = "aad-lambeth"
ADMIN, ADMIN_SLACK = "data.team@example.org", "UADMIN"  # the demo registry's admin
QUESTION = "has Croydon uploaded Q3?"


def prepare_registry(data_dir: Path, *, lambeth_channels: str = "email;slack;teams") -> Path:
    """The demo registry, with Slack and Teams ids for two coordinators; returns the db path."""
    data_dir.mkdir(parents=True, exist_ok=True)
    db = data_dir / "marac.db"
    store = Store.from_settings(Settings(database_url=f"sqlite:///{db}", data_dir=data_dir))
    contacts = (
        "name,email,role,maracs,slack_user_id,teams_id,channels\n"
        f"Demo coordinator (Lambeth),{LAMBETH},coordinator,Lambeth,{LAMBETH_SLACK},"
        f"{LAMBETH_AAD},{lambeth_channels}\n"
        f"Demo coordinator (Croydon),{CROYDON},coordinator,Croydon,{CROYDON_SLACK},,"
        "email;slack\n"
        f"Demo admin (data team),{ADMIN},admin,*,{ADMIN_SLACK},,email\n"
    )
    try:
        with store.transaction() as session:
            assert load_demo_registry(session)
            result = import_csv(session, contacts)
            assert result.ok, result.summary()
    finally:
        store.close()
    return db


def post(port: int, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    """POST to the running bot; returns (status, body) for error statuses too."""
    request = urllib.request.Request(f"http://{HOST}:{port}{path}", data=body,
                                     headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=WAIT) as response:
            return int(response.status), bytes(response.read())
    except urllib.error.HTTPError as exc:
        return int(exc.code), bytes(exc.read())


def email_answer(smtp_port: int, sink: SmtpSink, *, sender: str, question: str) -> str:
    """Ask the running bot ``question`` by email; the text of its reply."""
    before = len(sink.messages)
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, MAILBOX, question
    message["Message-ID"] = make_msgid(domain="example.org")
    message.set_content(question + "\n")
    with smtplib.SMTP(HOST, smtp_port, timeout=WAIT) as client:
        client.sendmail(sender, [MAILBOX], message.as_bytes())
    mails = sink.wait_for(before + 1, timeout=WAIT)
    return read_reply(mails[before].data).text


def words(text: str) -> str:
    """Text compared as a person reads it: the same words, whatever the line breaks."""
    return " ".join(text.split())
