"""Filing into Processed when the server says NO (issue 17), on a real Dovecot and the real
stored inbox (SQLite and PostgreSQL).

Another session moving the same messages first makes Dovecot answer ``NO [EXPUNGEISSUED]``
and move none of the set: the sweep re-checks what is still there, moves only that, and files
nothing twice, in the same session. A folder that does not exist is a filing error returned
to the watcher, with the messages left in place for the next sweep.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Iterator
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import make_msgid
from pathlib import Path

import pytest
from imap_tools import BaseMailBox
from sqlalchemy import select

from bot.channels.email.imap_connect import ImapTransport, PasswordLogin, close_mailbox
from bot.channels.email.imap_queue import StoreMailboxQueue
from bot.channels.email.imap_sweep import (
    Folders,
    SweepState,
    move_finished,
    prepare_folders,
    sweep,
)
from store.db import Store
from store.queue import InboundItem, finish_inbound
from tests.dovecot_support import DOVECOT, DovecotAccount, DovecotServer


@pytest.fixture(scope="module")
def dovecot() -> Iterator[DovecotServer]:
    if not Path(DOVECOT).exists():
        pytest.skip("dovecot is not installed (Debian package dovecot-imapd)")
    with tempfile.TemporaryDirectory(prefix="marac-dovecot-") as root:
        server = DovecotServer(Path(root), spare_users=6)
        with server:
            yield server


@pytest.fixture
def account(dovecot: DovecotServer) -> DovecotAccount:
    return dovecot.new_account()


@pytest.fixture
def mailbox(account: DovecotAccount) -> Iterator[BaseMailBox]:
    server = account.server
    opened = ImapTransport(server.host, server.port, "none", timeout=10).open()
    PasswordLogin(account.user, account.password).login(opened)
    yield opened
    close_mailbox(opened, polite=True)


def message(n: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = "croydon.coordinator@example.org"
    msg["To"] = "marac@example.org"
    msg["Subject"] = f"message {n}"
    msg["Message-ID"] = make_msgid(domain="croydon.example.org")
    msg.set_content("Hello.\n")
    return msg.as_bytes(policy=SMTP_POLICY)


def stored_and_finished(
    db_store: Store, mailbox: BaseMailBox, account: DovecotAccount, count: int
) -> tuple[StoreMailboxQueue, SweepState, list[str]]:
    """``count`` messages swept into the stored inbox and given an outcome (not yet moved)."""
    uids = [account.append(message(n)) for n in range(count)]
    queue = StoreMailboxQueue(db_store)
    state = SweepState()
    folders = prepare_folders(mailbox, watched="INBOX", processed="Processed", rejected="Rejected")
    first = sweep(mailbox, queue, state, folders)
    assert (first.enqueued, first.moved) == (count, 0)
    with db_store.transaction() as session:
        for item_id in session.scalars(select(InboundItem.id)):
            finish_inbound(session, item_id, outcome="question-has-uploaded")
    return queue, state, uids


def ids(raws: list[bytes]) -> Counter[str]:
    return Counter(str(message_from_bytes(raw)["Message-ID"]) for raw in raws)


def test_a_move_raced_by_another_session_is_rechecked_and_files_nothing_twice(
    db_store: Store, mailbox: BaseMailBox, account: DovecotAccount
) -> None:
    queue, state, uids = stored_and_finished(db_store, mailbox, account, 3)
    sent = ids(account.messages("INBOX"))
    with account.server.connect(account.user, account.password) as other:
        other.select("INBOX")
        assert other.uid("MOVE", f"{uids[0]},{uids[1]}", "Processed")[0] == "OK"

    folders = Folders("INBOX", "Processed", "Rejected")
    assert move_finished(mailbox, queue, state, folders) == (1, None)  # only what was left
    assert ids(account.messages("Processed")) == sent  # each once
    assert account.messages("INBOX") == []
    assert state.keys == {}
    with db_store.transaction() as session:
        assert all(session.scalars(select(InboundItem.moved_at)))
    assert mailbox.folder.get() == "INBOX"  # the same session carries on


def test_a_folder_that_cannot_be_written_is_a_filing_error_and_mail_stays_for_later(
    db_store: Store, mailbox: BaseMailBox, account: DovecotAccount
) -> None:
    queue, state, _uids = stored_and_finished(db_store, mailbox, account, 2)
    folders = Folders("INBOX", "No such folder", "Rejected")
    moved, error = move_finished(mailbox, queue, state, folders)
    assert moved == 0
    assert error is not None and error.startswith("cannot file into No such folder: NO ")
    assert len(state.keys) == 2, "kept, to be filed at a later sweep"
    assert len(account.messages("INBOX")) == 2
    # Fixed (here: the right folder), the next sweep files them and reports no error.
    again = sweep(mailbox, queue, state, Folders("INBOX", "Processed", "Rejected"))
    assert (again.moved, again.filing_error) == (2, None)
    assert len(account.messages("Processed")) == 2
