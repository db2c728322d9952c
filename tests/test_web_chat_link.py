""""dashboard" sent to the bot (issue 15): a one-time sign-in link in a thread only the asker
reads (email to the registered address, a Slack DM, a Teams 1:1 chat), never in a shared
channel; through the dispatcher, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from bot.channels.web.secret import secret_key
from bot.channels.web.signin import Signer, link_contact
from bot.dispatch import Dispatcher
from bot.settings import Settings
from kernel.messages import InboundMessage, ThreadRef
from kernel.wording import web as words
from store.registry import find_contact
from tests.dispatch_support import COORDINATOR, load_registry

NOW = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
WEB = "https://dash.example.org"


def _message(thread: ThreadRef, text: str = "dashboard") -> InboundMessage:
    return InboundMessage(channel=thread.channel, sender=COORDINATOR, thread=thread, text=text,
                          received_at=NOW)


PRIVATE = {
    "email": ThreadRef("email", COORDINATOR, by_address=True),
    "slack-dm": ThreadRef("slack", "D0123", message_id="1.2"),
    "teams-1:1": ThreadRef("teams", "a:1", extra={
        "reference": {"conversation": {"id": "a:1", "conversationType": "personal"}}}),
}
SHARED = {
    "slack-channel": ThreadRef("slack", "C0123", message_id="1.2"),
    "teams-channel": ThreadRef("teams", "19:x", extra={
        "reference": {"conversation": {"id": "19:x", "conversationType": "channel"}}}),
    "teams-untyped": ThreadRef("teams", "19:y", extra={"reference": {}}),
}


@pytest.mark.parametrize("where", sorted(PRIVATE))
def test_a_private_thread_gets_a_link_that_signs_in_as_the_asker(
        db_session: Session, tmp_path: Path, where: str) -> None:
    load_registry(db_session)
    settings = Settings(data_dir=tmp_path, web_url=WEB)
    result = Dispatcher(settings).dispatch(db_session, _message(PRIVATE[where], "Dashboard!"),
                                           now=NOW)
    assert result.reply is not None
    link = re.search(rf"{WEB}/signin/(\S+)", result.reply.text)
    assert link, result.reply.text
    found = link_contact(db_session, Signer(secret_key(settings)), link.group(1), now=NOW)
    assert found == find_contact(db_session, COORDINATOR)


@pytest.mark.parametrize("where", sorted(SHARED))
def test_a_shared_channel_gets_no_link(db_session: Session, tmp_path: Path, where: str) -> None:
    load_registry(db_session)
    settings = Settings(data_dir=tmp_path, web_url=WEB)
    result = Dispatcher(settings).dispatch(db_session, _message(SHARED[where]), now=NOW)
    assert result.reply is not None
    assert result.reply.text == words.DASHBOARD_NOT_PRIVATE.format(url=WEB)
    assert "/signin/" not in result.reply.text


def test_a_sentence_mentioning_the_dashboard_is_not_a_request(db_session: Session,
                                                              tmp_path: Path) -> None:
    load_registry(db_session)
    settings = Settings(data_dir=tmp_path, web_url=WEB)
    result = Dispatcher(settings).dispatch(
        db_session, _message(PRIVATE["slack-dm"], "is the dashboard showing Q3?"), now=NOW)
    assert result.reply is None or "/signin/" not in result.reply.text
