"""The SMTP listener's writer (bot/channels/email/smtp_writer.py) on real SQLite and
PostgreSQL: messages that wait while it commits go together in one transaction, at most
MAX_GROUP of them; one message's failure is its own; what was submitted before ``close`` is
written; a message nobody waits for any more is not."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import Future

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.channels.email.smtp_listener import _store
from bot.channels.email.smtp_writer import MAX_GROUP, Accepted, GroupWriter
from store.db import Store
from store.queue import InboundItem

WAIT = 30.0  # seconds an event may take before the test fails rather than hangs


class Recorder:
    """``_store`` as the listener uses it, noting which transaction (session) wrote each
    message; the first message is held until ``release`` so that others queue behind it."""

    def __init__(self, refuse: bytes | None = None) -> None:
        self.groups: dict[int, list[bytes]] = {}
        self.holding = threading.Event()
        self.released = threading.Event()
        self.refuse = refuse

    def __call__(self, session: Session, message: Accepted) -> int:
        if not self.holding.is_set():
            self.holding.set()
            assert self.released.wait(WAIT)
        group = session.info.setdefault("test_group", len(self.groups))
        self.groups.setdefault(group, []).append(message.raw)
        if message.raw == self.refuse:
            raise ValueError("refused by the test")
        return _store(session, message)

    def sizes(self) -> list[int]:
        return [len(raws) for raws in self.groups.values()]


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def writer(db_store: Store, recorder: Recorder) -> Iterator[GroupWriter]:
    writer = GroupWriter(db_store.sessions, recorder)
    yield writer
    recorder.released.set()
    writer.close(WAIT)


def _mail(n: int) -> bytes:
    return f"Message-ID: <{n}@example.org>\r\nSubject: {n}\r\n\r\nbody {n}\r\n".encode()


def _held_then(writer: GroupWriter, recorder: Recorder, count: int) -> list[Future[int]]:
    """One message held in its transaction, ``count`` more submitted behind it, then all let go."""
    first = writer.submit(_mail(0), "a@example.org", ["marac@example.org"])
    assert recorder.holding.wait(WAIT)
    rest = [writer.submit(_mail(n), "a@example.org", ["marac@example.org"])
            for n in range(1, count + 1)]
    recorder.released.set()
    return [first, *rest]


def _stored(store: Store) -> int:
    with store.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(InboundItem)) or 0)


def test_messages_waiting_behind_a_commit_are_written_together(
    db_store: Store, writer: GroupWriter, recorder: Recorder
) -> None:
    futures = _held_then(writer, recorder, 5)
    ids = [future.result(WAIT) for future in futures]
    assert recorder.sizes() == [1, 5]
    assert len(set(ids)) == 6 and _stored(db_store) == 6


def test_a_group_is_at_most_max_group_messages(
    db_store: Store, writer: GroupWriter, recorder: Recorder
) -> None:
    futures = _held_then(writer, recorder, MAX_GROUP + 1)
    for future in futures:
        future.result(WAIT)
    assert recorder.sizes() == [1, MAX_GROUP, 1]
    assert _stored(db_store) == MAX_GROUP + 2


@pytest.mark.parametrize("behind", [2, 3])
def test_one_message_that_fails_fails_alone(db_store: Store, behind: int) -> None:
    """Two or three messages behind the held one, the second refused: the group stops at it,
    is rolled back, and is written again one message at a time."""
    recorder = Recorder(refuse=_mail(2))
    writer = GroupWriter(db_store.sessions, recorder)
    try:
        futures = _held_then(writer, recorder, behind)
        with pytest.raises(ValueError, match="refused by the test"):
            futures[2].result(WAIT)
        others = [future.result(WAIT) for n, future in enumerate(futures) if n != 2]
    finally:
        writer.close(WAIT)
    assert recorder.sizes() == [1, 2, *[1] * behind]
    assert len(set(others)) == behind and _stored(db_store) == behind


def test_the_same_message_twice_in_a_group_is_stored_once(
    db_store: Store, writer: GroupWriter, recorder: Recorder
) -> None:
    first = writer.submit(_mail(0), "a@example.org", ["marac@example.org"])
    assert recorder.holding.wait(WAIT)
    again = [writer.submit(_mail(1), "a@example.org", ["marac@example.org"]) for _ in range(2)]
    recorder.released.set()
    first.result(WAIT)
    assert again[0].result(WAIT) == again[1].result(WAIT)
    assert recorder.sizes() == [1, 2] and _stored(db_store) == 2


def test_close_writes_what_was_submitted_before_it(db_store: Store, recorder: Recorder) -> None:
    writer = GroupWriter(db_store.sessions, recorder)
    futures = _held_then(writer, recorder, 3)
    writer.close(WAIT)
    assert all(future.done() for future in futures)
    assert _stored(db_store) == 4


def test_a_message_nobody_waits_for_is_not_written(
    db_store: Store, writer: GroupWriter, recorder: Recorder
) -> None:
    first = writer.submit(_mail(0), "a@example.org", ["marac@example.org"])
    assert recorder.holding.wait(WAIT)
    dropped = writer.submit(_mail(1), "a@example.org", ["marac@example.org"])
    kept = writer.submit(_mail(2), "a@example.org", ["marac@example.org"])
    assert dropped.cancel()
    recorder.released.set()
    first.result(WAIT)
    kept.result(WAIT)
    assert recorder.sizes() == [1, 1] and _stored(db_store) == 2


def test_after_close_a_message_is_refused_at_once(db_store: Store, recorder: Recorder) -> None:
    """Not left waiting for a thread that has ended: the listener answers 451 and the sending
    server tries again."""
    recorder.released.set()
    writer = GroupWriter(db_store.sessions, recorder)
    writer.close(WAIT)
    writer.close(WAIT)  # twice is harmless
    late = writer.submit(_mail(1), "a@example.org", ["marac@example.org"])
    with pytest.raises(RuntimeError, match=r"^the listener is stopping$"):
        late.result(0)
    assert _stored(db_store) == 0


def test_the_writer_is_a_daemon_thread_of_its_own_name(db_store: Store,
                                                        writer: GroupWriter) -> None:
    """Named for thread dumps; a daemon, so a process that never closed it still exits."""
    threads = [t for t in threading.enumerate() if t.name == "smtp-writer"]
    assert threads and all(t.daemon for t in threads)


def test_close_gives_up_waiting_after_its_timeout(db_store: Store, recorder: Recorder) -> None:
    """A write stuck (the database hanging) does not hold the listener's stop for ever."""
    writer = GroupWriter(db_store.sessions, recorder)
    writer.submit(_mail(0), "a@example.org", ["marac@example.org"])
    assert recorder.holding.wait(WAIT)
    closing = threading.Thread(target=writer.close, args=(0.01,))
    closing.start()
    closing.join(WAIT)
    stopped = not closing.is_alive()
    recorder.released.set()
    writer.close(WAIT)
    assert stopped
