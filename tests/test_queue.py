"""The durable inbox/outbox on real SQLite and PostgreSQL (store/queue.py), on databases
brought up by the real migrations (tests/conftest.py ``db_engine``)."""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import cast
from zoneinfo import ZoneInfo

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import Engine, MetaData, Table, inspect, select, update
from sqlalchemy.orm import Session, sessionmaker

from store.db import open_engine, upgrade
from store.queue import (
    Claim,
    ClaimedItem,
    Finishing,
    InboundItem,
    InboundRaw,
    OutboundItem,
    OutboundPayload,
    claim_inbound,
    due_outbound,
    enqueue_inbound,
    enqueue_outbound,
    fail_inbound,
    finish_inbound,
    hold_claim,
    mark_failed,
    mark_retry,
    mark_sent,
    renew_claim,
    retry_delay,
)

T0 = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
# The migrations that build the queue tables: 0002 made them, 0012 moved their bytes apart.
MIGRATIONS = Path(__file__).parents[1] / "store/migrations/versions"
QUEUE_MIGRATIONS = ("0002_queues", "0012_queue_bytes_apart")
QUEUE_TABLES = [cast(Table, model.__table__)
                for model in (InboundItem, OutboundItem, InboundRaw, OutboundPayload)]


@pytest.fixture
def sessions(db_engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(db_engine, expire_on_commit=False)


@pytest.fixture
def pg_sessions(pg_schema_url: str) -> Iterator[sessionmaker[Session]]:
    engine = open_engine(pg_schema_url)
    upgrade(engine)
    yield sessionmaker(engine, expire_on_commit=False)
    engine.dispose()


def _enqueue(session: Session, n: int, *, key: str | None = None) -> int:
    return enqueue_inbound(session, channel="email", raw=f"message {n}".encode(),
                           source_key=key or f"smtp:{n}", envelope_from=f"a{n}@example.org",
                           recipients=["marac@localhost"], received_at=T0 + timedelta(minutes=n))


def test_enqueue_inbound_is_idempotent_on_source_key(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        first = _enqueue(s, 1, key="imap:7:42")
    with sessions.begin() as s:
        again = _enqueue(s, 2, key="imap:7:42")
        count = len(s.scalars(select(InboundItem)).all())
        stored = s.get(InboundItem, first)
        assert stored is not None
        assert stored.raw == b"message 1"  # the second delivery did not overwrite the first
    assert again == first
    assert count == 1


def test_enqueue_inbound_without_source_key_always_adds(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        ids = {enqueue_inbound(s, channel="slack", raw=b"x", source_key=None, received_at=T0)
               for _ in range(3)}
    assert len(ids) == 3


def test_received_at_comes_back_as_the_same_instant_in_utc(
    sessions: sessionmaker[Session],
) -> None:
    summer = datetime(2025, 7, 1, 10, 30, tzinfo=ZoneInfo("Europe/London"))  # BST, UTC+1
    with sessions.begin() as s:
        item_id = enqueue_inbound(s, channel="email", raw=b"x", source_key="k",
                                  recipients=["a@x.org", "b@x.org"], received_at=summer)
    with sessions() as s:
        item = s.get(InboundItem, item_id)
        assert item is not None
        assert item.received_at == summer
        assert item.received_at.utcoffset() == timedelta(0)
        assert item.received_at.hour == 9
        assert item.recipients.splitlines() == ["a@x.org", "b@x.org"]


def test_claim_takes_the_oldest_queued_item_and_counts_the_attempt(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as s:
        _enqueue(s, 3)
        oldest = _enqueue(s, 1)
        _enqueue(s, 2)
    with sessions.begin() as s:
        item = claim_inbound(s, worker="w1", stale_after=timedelta(minutes=10), now=T0)
        assert item is not None
        assert (item.id, item.status, item.attempts, item.claimed_by) == (
            oldest, "processing", 1, "w1")
        assert item.claimed_at == T0
    with sessions.begin() as s:
        second = claim_inbound(s, worker="w1", stale_after=timedelta(minutes=10), now=T0)
        assert second is not None and second.raw == b"message 2"


def test_a_claim_in_a_session_that_holds_the_item_returns_it_as_claimed(
    sessions: sessionmaker[Session],
) -> None:
    """The claim returns the row as its UPDATE wrote it, and an object of the item the
    session loaded before is read afresh: never the stale attempt count."""
    with sessions.begin() as s:
        item_id = _enqueue(s, 1)
    with sessions.begin() as s:
        before = s.get(InboundItem, item_id)
        assert before is not None and (before.status, before.attempts) == ("queued", 0)
        item = claim_inbound(s, worker="w1", stale_after=timedelta(minutes=10), now=T0)
        assert item == ClaimedItem(
            id=item_id, channel="email", source_key="smtp:1", raw=b"message 1",
            envelope_from="a1@example.org", received_at=T0 + timedelta(minutes=1),
            status="processing", attempts=1, claimed_at=T0, claimed_by="w1")
        assert (before.status, before.attempts, before.claimed_by, before.claimed_at) == (
            "processing", 1, "w1", T0)


def test_claim_returns_none_when_everything_is_claimed_or_done(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as s:
        done_id = _enqueue(s, 1)
        _enqueue(s, 2)
        finish_inbound(s, done_id, outcome="help", now=T0)
    with sessions.begin() as s:
        assert claim_inbound(s, worker="w", stale_after=timedelta(minutes=5), now=T0) is not None
    with sessions.begin() as s:
        assert claim_inbound(s, worker="w", stale_after=timedelta(minutes=5), now=T0) is None


def test_a_stale_claim_is_taken_again_and_a_fresh_one_is_not(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as s:
        item_id = _enqueue(s, 1)
    with sessions.begin() as s:
        claim_inbound(s, worker="dead", stale_after=timedelta(minutes=5), now=T0)
    with sessions.begin() as s:
        soon = T0 + timedelta(minutes=4)
        assert claim_inbound(s, worker="w2", stale_after=timedelta(minutes=5), now=soon) is None
    with sessions.begin() as s:
        later = T0 + timedelta(minutes=6)
        item = claim_inbound(s, worker="w2", stale_after=timedelta(minutes=5), now=later)
        assert item is not None
        assert (item.id, item.claimed_by, item.attempts) == (item_id, "w2", 2)


def test_an_item_that_never_finishes_is_failed_after_max_attempts(
    sessions: sessionmaker[Session], caplog: pytest.LogCaptureFixture
) -> None:
    with sessions.begin() as s:
        item_id = _enqueue(s, 1)
    now = T0
    for n in range(3):  # three processes (each its own name) die with it in turn
        with sessions.begin() as s:
            assert claim_inbound(s, worker=f"w{n}", stale_after=timedelta(minutes=1), now=now,
                                 max_attempts=3) is not None
        now += timedelta(minutes=2)
    with caplog.at_level(logging.ERROR, logger="store.queue"), sessions.begin() as s:
        assert claim_inbound(s, worker="w3", stale_after=timedelta(minutes=1), now=now,
                             max_attempts=3) is None
    with sessions() as s:
        item = s.get(InboundItem, item_id)
        assert item is not None
        assert (item.status, item.attempts) == ("failed", 3)
        assert item.last_error is not None and "3" in item.last_error
    assert any("abandoned" in r.message for r in caplog.records)


def test_after_five_deaths_an_item_is_given_up_and_the_next_one_claimed(
    sessions: sessionmaker[Session], caplog: pytest.LogCaptureFixture
) -> None:
    """The default limit is five processes dying with a message; the claim that gives it up
    goes on to the next waiting message. Each retake of a stale claim is logged."""
    with sessions.begin() as s:
        deadly = _enqueue(s, 1)
        waiting = _enqueue(s, 2)
    now = T0
    with caplog.at_level(logging.WARNING, logger="store.queue"):
        for n in range(5):  # the oldest claimable each time: the stale one, not the queued
            with sessions.begin() as s:
                item = claim_inbound(s, worker=f"w{n}", stale_after=timedelta(minutes=1),
                                     now=now)
                assert item is not None and (item.id, item.attempts) == (deadly, n + 1)
            now += timedelta(minutes=2)
        with sessions.begin() as s:
            item = claim_inbound(s, worker="w5", stale_after=timedelta(minutes=1), now=now)
            assert item is not None and item.id == waiting
    retaken = [r.getMessage() for r in caplog.records if "reclaimed" in r.getMessage()]
    assert retaken == [f"inbound item {deadly}: reclaimed a stale claim (attempt {n})"
                       for n in range(2, 6)]
    with sessions() as s:
        given_up = s.get(InboundItem, deadly)
        assert given_up is not None
        assert (given_up.status, given_up.attempts, given_up.finished_at) == ("failed", 5, now)


def test_hold_claim_renews_only_the_holders_claim_on_an_item_in_hand(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as s:
        mine, done = _enqueue(s, 1), _enqueue(s, 2)
    with sessions.begin() as s:
        assert claim_inbound(s, worker="w1", stale_after=timedelta(minutes=5), now=T0)
        assert claim_inbound(s, worker="w1", stale_after=timedelta(minutes=5), now=T0)
        finish_inbound(s, done, outcome="submission-accepted", now=T0)
    later = T0 + timedelta(minutes=3)
    with sessions.begin() as s:
        assert not hold_claim(s, mine, worker="w2", now=later)  # another's claim
        assert not hold_claim(s, done, worker="w1", now=later)  # finished already
        assert not hold_claim(s, 999, worker="w1", now=later)  # no such item
        assert hold_claim(s, mine, worker="w1", now=later)
    with sessions() as s:
        held = s.get(InboundItem, mine)
        assert held is not None and (held.status, held.claimed_by, held.claimed_at) == (
            "processing", "w1", later)


def test_renewing_a_claim_tells_whether_the_same_message_was_answered_elsewhere(
    sessions: sessionmaker[Session],
) -> None:
    """One UPDATE … RETURNING on both databases (issue 14); every answer it can give."""
    def arrived(s: Session, n: int, message_id: str) -> int:
        return enqueue_inbound(s, channel="email", raw=b"m", source_key=f"smtp:{n}",
                               received_at=T0, message_id=message_id)

    with sessions.begin() as s:
        answered, again, other, failed, retried = (
            arrived(s, 1, "<m@x>"), arrived(s, 2, "<m@x>"), arrived(s, 3, "<o@x>"),
            arrived(s, 4, "<f@x>"), arrived(s, 5, "<f@x>"))
    with sessions.begin() as s:
        for _ in range(5):
            assert claim_inbound(s, worker="w1", stale_after=timedelta(minutes=5), now=T0)
        finish_inbound(s, answered, outcome="submission-accepted", now=T0)
        fail_inbound(s, failed, error="incident", now=T0)
    later = T0 + timedelta(minutes=3)
    with sessions.begin() as s:
        assert renew_claim(s, again, worker="w1", message_id="<m@x>",
                           now=later) is Claim.ANSWERED_ELSEWHERE
        assert renew_claim(s, other, worker="w1", message_id="<o@x>", now=later) is Claim.HELD
        # Failed is not answered: the same message coming again is handled.
        assert renew_claim(s, retried, worker="w1", message_id="<f@x>",
                           now=later) is Claim.HELD
        # Not asked without a Message-ID.
        assert renew_claim(s, again, worker="w1", now=later) is Claim.HELD
        assert renew_claim(s, again, worker="w2", message_id="<m@x>", now=later) is Claim.LOST
        assert renew_claim(s, answered, worker="w1", message_id="<m@x>",
                           now=later) is Claim.LOST
        assert renew_claim(s, 999, worker="w1", message_id="<m@x>", now=later) is Claim.LOST
    with sessions() as s:
        held = s.get(InboundItem, again)
        assert held is not None and (held.status, held.claimed_at) == ("processing", later)


def test_queueing_a_reply_can_finish_the_message_it_answers(
    sessions: sessionmaker[Session],
) -> None:
    """In the reply's own statement on PostgreSQL (issue 14): done with its outcome, with the
    reply or not at all, and even when the reply was queued already."""
    with sessions.begin() as s:
        first, second = _enqueue(s, 1), _enqueue(s, 2)
    with sessions.begin() as s:
        claim_inbound(s, worker="w", stale_after=timedelta(minutes=5), now=T0)
        claim_inbound(s, worker="w", stale_after=timedelta(minutes=5), now=T0)
    later = T0 + timedelta(minutes=1)

    def reply(s: Session, item_id: int, finishing: Finishing | None) -> int:
        return enqueue_outbound(s, key=f"reply:{item_id}", channel="email",
                                recipient="a@x.org", payload=b"reply", inbound_id=item_id,
                                now=T0, finishing=finishing)

    with sessions() as s:  # rolled back: neither
        reply(s, first, Finishing(first, "submission-accepted", later))
        s.rollback()
    with sessions() as s:
        item = s.get(InboundItem, first)
        assert item is not None and item.status == "processing"
        assert s.scalars(select(OutboundItem)).all() == []
    with sessions.begin() as s:
        loaded = s.get(InboundItem, first)
        assert loaded is not None and loaded.status == "processing"
        queued = reply(s, first, Finishing(first, "submission-accepted", later))
        # An item this session holds is read afresh, not shown as it was.
        assert (loaded.status, loaded.outcome, loaded.finished_at) == (
            "done", "submission-accepted", later)
    with sessions.begin() as s:  # the reply stored already: the message is finished still
        earlier = reply(s, second, None)
        assert reply(s, second, Finishing(second, "help", later)) == earlier
    with sessions() as s:
        done = [(i.id, i.status, i.outcome, i.finished_at)
                for i in s.scalars(select(InboundItem).order_by(InboundItem.id))]
        assert done == [(first, "done", "submission-accepted", later),
                        (second, "done", "help", later)]
        assert [o.id for o in s.scalars(select(OutboundItem).order_by(OutboundItem.id))] == [
            queued, earlier]
        payloads = s.scalars(select(OutboundPayload.payload)).all()
        assert payloads == [b"reply", b"reply"]


def test_finish_and_the_reply_commit_together_or_not_at_all(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as s:
        item_id = _enqueue(s, 1)
    with sessions.begin() as s:
        claim_inbound(s, worker="w", stale_after=timedelta(minutes=5), now=T0)
    with sessions() as s:  # the handler fails after queueing the reply: nothing sticks
        finish_inbound(s, item_id, outcome="submission-accepted")
        enqueue_outbound(s, key=f"reply:{item_id}", channel="email", recipient="a@x.org",
                         payload=b"reply", inbound_id=item_id, now=T0)
        s.rollback()
    with sessions() as s:
        item = s.get(InboundItem, item_id)
        assert item is not None and item.status == "processing"
        assert s.scalars(select(OutboundItem)).all() == []
    with sessions.begin() as s:
        finish_inbound(s, item_id, outcome="submission-accepted", now=T0)
        enqueue_outbound(s, key=f"reply:{item_id}", channel="email", recipient="a@x.org",
                         payload=b"reply", inbound_id=item_id, now=T0)
    with sessions() as s:
        item = s.get(InboundItem, item_id)
        assert item is not None
        assert (item.status, item.outcome, item.finished_at) == (
            "done", "submission-accepted", T0)
        assert [o.inbound_id for o in s.scalars(select(OutboundItem))] == [item_id]


def test_an_item_loaded_in_the_session_shows_what_finishing_wrote(
    sessions: sessionmaker[Session],
) -> None:
    """The outcome is written by a Core statement (issue 14): an item the session already
    holds is read afresh, not shown as it was before."""
    with sessions.begin() as s:
        item_id = _enqueue(s, 1)
    with sessions.begin() as s:
        loaded = s.get(InboundItem, item_id)
        assert loaded is not None and loaded.status == "queued"
        finish_inbound(s, item_id, outcome="help", now=T0)
        assert (loaded.status, loaded.outcome, loaded.finished_at) == ("done", "help", T0)
        other = _enqueue(s, 2)
        fail_inbound(s, other, error="bad", now=T0)  # not loaded here: nothing to refresh
        assert s.get(InboundItem, other) is not None
        assert s.get_one(InboundItem, other).last_error == "bad"


def test_fail_and_finish_of_a_missing_item_raise(sessions: sessionmaker[Session]) -> None:
    with sessions() as s, pytest.raises(LookupError):
        finish_inbound(s, 999, outcome="help")
    with sessions() as s, pytest.raises(LookupError):
        fail_inbound(s, 999, error="x")


def test_enqueue_outbound_is_idempotent_on_key(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        first = enqueue_outbound(s, key="reminder:croydon:Q3", channel="email",
                                 recipient="c@croydon.gov.uk", payload=b"one", now=T0)
    with sessions.begin() as s:
        again = enqueue_outbound(s, key="reminder:croydon:Q3", channel="email",
                                 recipient="c@croydon.gov.uk", payload=b"two", now=T0)
        payloads = [o.payload for o in s.scalars(select(OutboundItem))]
    assert again == first
    assert payloads == [b"one"]


def test_due_outbound_then_mark_sent(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        a = enqueue_outbound(s, key="a", channel="email", recipient="a@x.org", payload=b"a",
                             now=T0)
        b = enqueue_outbound(s, key="b", channel="email", recipient="b@x.org", payload=b"b",
                             now=T0 + timedelta(seconds=1))
        enqueue_outbound(s, key="later", channel="email", recipient="c@x.org", payload=b"c",
                         now=T0 + timedelta(hours=1))
    with sessions.begin() as s:
        due = due_outbound(s, now=T0 + timedelta(minutes=1), limit=10)
        assert [o.id for o in due] == [a, b]
        assert [o.id for o in due_outbound(s, now=T0 + timedelta(minutes=1), limit=1)] == [a]
        mark_sent(s, a, now=T0 + timedelta(minutes=1))
    with sessions.begin() as s:
        assert [o.id for o in due_outbound(s, now=T0 + timedelta(minutes=1), limit=10)] == [b]
        sent = s.get(OutboundItem, a)
        assert sent is not None
        assert (sent.status, sent.sent_at, sent.attempts) == (
            "sent", T0 + timedelta(minutes=1), 1)


def test_mark_sent_refreshes_the_item_this_session_loaded(
        sessions: sessionmaker[Session]) -> None:
    """mark_sent writes by Core: the object the delivery loaded must not be left saying
    "queued" (the session keeps objects past commit)."""
    with sessions.begin() as s:
        a = enqueue_outbound(s, key="a", channel="email", recipient="a@x.org", payload=b"a",
                             now=T0)
        s.execute(update(OutboundItem).where(OutboundItem.id == a).values(attempts=2))
    with sessions.begin() as s:
        (loaded,) = due_outbound(s, now=T0, limit=1)
        mark_sent(s, a, now=T0 + timedelta(seconds=5))
        assert (loaded.status, loaded.sent_at, loaded.attempts, loaded.last_error) == (
            "sent", T0 + timedelta(seconds=5), 3, None)
        assert due_outbound(s, now=T0 + timedelta(days=1), limit=5) == []


def test_mark_sent_of_a_missing_item_raises(sessions: sessionmaker[Session]) -> None:
    with sessions() as s, pytest.raises(LookupError, match="no outbound item 999"):
        mark_sent(s, 999, now=T0)


def test_due_outbound_keeps_to_its_channels_and_its_limit(
        sessions: sessionmaker[Session]) -> None:
    """Its statements are built once per limit, the channels bound at each call."""
    with sessions.begin() as s:
        ids = {channel: [enqueue_outbound(s, key=f"{channel}{n}", channel=channel,
                                          recipient="a@x.org", payload=b"x",
                                          now=T0 + timedelta(seconds=n)) for n in range(3)]
               for channel in ("email", "slack", "teams")}
    with sessions.begin() as s:
        def due(limit: int, channels: tuple[str, ...] | None) -> list[int]:
            return [o.id for o in due_outbound(s, now=T0 + timedelta(minutes=1), limit=limit,
                                               channels=channels)]

        assert due(5, ("slack",)) == ids["slack"]
        assert due(2, ("teams",)) == ids["teams"][:2]
        email, slack, teams = ids["email"], ids["slack"], ids["teams"]
        # Oldest first; at the same moment, the first queued first.
        assert due(5, ("teams", "email")) == [email[0], teams[0], email[1], teams[1], email[2]]
        assert due(5, ()) == []
        assert due(1, None) == [email[0]]
        assert due(9, None) == [item for n in range(3) for item in (email[n], slack[n],
                                                                      teams[n])]


def test_retry_backs_off_from_30_seconds_to_an_hour_and_never_drops(
    sessions: sessionmaker[Session], caplog: pytest.LogCaptureFixture
) -> None:
    with sessions.begin() as s:
        item_id = enqueue_outbound(s, key="r", channel="email", recipient="a@x.org",
                                   payload=b"p", now=T0)
    waits = []
    now = T0
    with caplog.at_level(logging.WARNING, logger="store.queue"):
        for _ in range(15):
            with sessions.begin() as s:
                assert [o.id for o in due_outbound(s, now=now, limit=5)] == [item_id]
                mark_retry(s, item_id, error="451 try later", now=now)
                item = s.get(OutboundItem, item_id)
                assert item is not None
                assert due_outbound(s, now=item.next_attempt_at - timedelta(seconds=1),
                                    limit=5) == []
                waits.append(item.next_attempt_at - now)
                now = item.next_attempt_at
    assert [w.total_seconds() for w in waits[:8]] == [30, 60, 120, 240, 480, 960, 1920, 3600]
    assert all(w == timedelta(hours=1) for w in waits[7:])
    with sessions() as s:
        item = s.get(OutboundItem, item_id)
        assert item is not None
        assert (item.status, item.attempts, item.last_error) == ("queued", 15, "451 try later")
    levels = [r.levelno for r in caplog.records if r.name == "store.queue"]
    assert levels[:9] == [logging.WARNING] * 9
    assert levels[9:] == [logging.ERROR] * 6


def test_retry_delay_is_capped_for_absurd_attempt_counts() -> None:
    assert retry_delay(1) == timedelta(seconds=30)
    assert retry_delay(10_000) == timedelta(hours=1)


def test_mark_failed_stops_retrying_but_keeps_the_row(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        item_id = enqueue_outbound(s, key="f", channel="email", recipient="nobody@x.org",
                                   payload=b"p", now=T0)
        mark_failed(s, item_id, error="550 5.1.1 no such user", now=T0)
    with sessions() as s:
        assert due_outbound(s, now=T0 + timedelta(days=1), limit=5) == []
        item = s.get(OutboundItem, item_id)
        assert item is not None
        assert (item.status, item.last_error) == ("failed", "550 5.1.1 no such user")


@pytest.mark.postgres
def test_two_postgres_workers_never_claim_the_same_item(
    pg_sessions: sessionmaker[Session],
) -> None:
    with pg_sessions.begin() as s:
        first, second = _enqueue(s, 1), _enqueue(s, 2)
    with pg_sessions() as a, pg_sessions() as b:
        # Worker A holds its claim uncommitted; B must skip the locked row, not wait.
        taken_a = claim_inbound(a, worker="a", stale_after=timedelta(minutes=5), now=T0)
        taken_b = claim_inbound(b, worker="b", stale_after=timedelta(minutes=5), now=T0)
        assert taken_a is not None and taken_b is not None
        assert (taken_a.id, taken_b.id) == (first, second)
        assert claim_inbound(b, worker="b", stale_after=timedelta(minutes=5), now=T0) is None
        a.commit()
        b.commit()


@pytest.mark.postgres
def test_two_postgres_senders_never_take_the_same_outbound_item(
    pg_sessions: sessionmaker[Session],
) -> None:
    with pg_sessions.begin() as s:
        for key in ("a", "b"):
            enqueue_outbound(s, key=key, channel="email", recipient="x@x.org", payload=b"p",
                             now=T0)
    with pg_sessions() as a, pg_sessions() as b:
        keys_a = [o.key for o in due_outbound(a, now=T0, limit=1)]
        keys_b = [o.key for o in due_outbound(b, now=T0, limit=5)]
        assert (keys_a, keys_b) == (["a"], ["b"])
        a.rollback()
        b.rollback()


def _load_migration(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"migration_{name}", MIGRATIONS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def empty_engine(db_url: str) -> Iterator[Engine]:
    engine = open_engine(db_url)  # not upgraded: this migration is applied on its own
    yield engine
    engine.dispose()


def test_the_migrations_build_exactly_the_models_tables(empty_engine: Engine) -> None:
    migrations = [_load_migration(name) for name in QUEUE_MIGRATIONS]
    assert [(m.revision, m.down_revision) for m in migrations] == [
        ("0002_queues", "0001_initial"), ("0012_queue_bytes_apart", "0011_registry_version")]
    only_queues = MetaData(naming_convention=InboundItem.metadata.naming_convention)
    for table in QUEUE_TABLES:
        table.to_metadata(only_queues)
    with empty_engine.begin() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        with Operations.context(context):
            for migration in migrations:
                migration.upgrade()
        assert compare_metadata(context, only_queues) == []
    with empty_engine.begin() as conn, Operations.context(MigrationContext.configure(conn)):
        for migration in reversed(migrations):
            migration.downgrade()
    assert inspect(empty_engine).get_table_names() == []
