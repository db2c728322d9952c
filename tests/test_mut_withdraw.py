"""Withdrawing a submission (store/withdraw.py) after several files changed the same meeting,
pinned where a mutation run found it loose: the figures put back are the latest earlier ones
of that meeting from a file still standing (never the withdrawn file's own, another withdrawn
file's, or another meeting's), its quarters are those of its meetings and held changes only,
and only its own held changes end. Real SQLite and PostgreSQL (``db_session``)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.db import Store
from store.history import meeting_history
from store.models import HeldChange, HeldStatus, Submission
from store.withdraw import (
    MeetingFate,
    MeetingUndone,
    find_submission,
    quarters_of,
    withdraw_submission,
)
from tests.store_support import flag_as_validation_would, load_registry, record, report, row

OCT3, OCT17, JAN9 = date(2024, 10, 3), date(2024, 10, 17), date(2025, 1, 9)
START = datetime(2025, 1, 10, 9, 0, tzinfo=UTC)


class Files:
    """Files sent one after another, each a minute later, changes taken as confirmed."""

    def __init__(self, session: Session) -> None:
        self.session, self.now = session, START
        load_registry(session)

    def send(self, *rows: tuple[date, int], file: str, held: bool = False) -> Submission:
        self.now += timedelta(minutes=1)
        sent = report(
            *(row(2 + i, "Croydon", d, cases=c) for i, (d, c) in enumerate(rows)), file=file
        )
        if held:
            flag_as_validation_would(self.session, sent)
        return record(self.session, sent, confirm=not held, now=self.now)

    def withdraw(self, submission: Submission) -> tuple[MeetingUndone, ...]:
        self.now += timedelta(minutes=1)
        return withdraw_submission(self.session, submission, by="ada", now=self.now).meetings


def _cases(session: Session, day: date) -> list[int | None]:
    return [v.counts["cases"] for v in meeting_history(session, "Croydon", day)]


def test_the_latest_earlier_figures_of_that_meeting_from_a_standing_file_come_back(
    db_session: Session,
) -> None:
    files = Files(db_session)
    a = files.send((OCT3, 12), (OCT17, 7), file="a.xlsx")
    files.send((OCT17, 30), file="d.xlsx")  # another meeting's later version
    b = files.send((OCT3, 13), file="b.xlsx")
    c = files.send((OCT3, 14), file="c.xlsx")
    assert files.withdraw(b) == (MeetingUndone("Croydon", OCT3, MeetingFate.KEPT),)
    (undone,) = files.withdraw(c)
    # Not b's 13 (withdrawn), not 30 (17 Oct's): a's 12 for 3 Oct.
    assert undone == MeetingUndone("Croydon", OCT3, MeetingFate.RESTORED, a.id)
    assert _cases(db_session, OCT3) == [12, 13, 14, 12]
    restored = meeting_history(db_session, "Croydon", OCT3)[-1]
    assert (restored.sheet, restored.sheet_row) == ("Marac data", 2)


def test_the_most_recent_of_several_standing_figures_comes_back(db_session: Session) -> None:
    files = Files(db_session)
    files.send((OCT3, 12), file="a.xlsx")
    b = files.send((OCT3, 13), file="b.xlsx")
    c = files.send((OCT3, 14), file="c.xlsx")
    (undone,) = files.withdraw(c)
    assert undone.restored_from == b.id and _cases(db_session, OCT3)[-1] == 13


def test_a_file_whose_figures_came_back_by_a_withdrawal_clears_them_when_withdrawn(
    db_session: Session,
) -> None:
    files = Files(db_session)
    a = files.send((OCT3, 12), file="a.xlsx")
    b = files.send((OCT3, 13), file="b.xlsx")
    files.withdraw(b)  # a's figures are current again, as a new version
    (undone,) = files.withdraw(a)
    # Nothing earlier stands: neither a's own first version nor b's withdrawn one.
    assert undone.fate is MeetingFate.CLEARED
    assert not any(v.is_current for v in meeting_history(db_session, "Croydon", OCT3))


def test_quarters_and_held_changes_are_the_submissions_own(db_session: Session) -> None:
    files = Files(db_session)
    files.send((OCT3, 12), (JAN9, 5), file="a.xlsx")
    other = files.send((OCT17, 8), file="other.xlsx")
    mine = files.send((OCT3, 20), file="mine.xlsx", held=True)  # held, nothing recorded
    theirs = files.send((JAN9, 6), file="theirs.xlsx", held=True)
    assert quarters_of(db_session, mine.id) == ["Q3 2024/25"]
    assert quarters_of(db_session, theirs.id) == ["Q4 2024/25"]
    assert quarters_of(db_session, other.id) == ["Q3 2024/25"]
    withdrawal = withdraw_submission(db_session, mine, by="ada", now=files.now)
    assert withdrawal.held_dropped == 1
    status = {
        h.submission_id: (h.status, h.resolved_at) for h in db_session.scalars(select(HeldChange))
    }
    assert status[theirs.id] == (HeldStatus.PENDING.value, None)
    ended, resolved_at = status[mine.id]
    assert ended == HeldStatus.WITHDRAWN.value
    assert resolved_at is not None and resolved_at.replace(tzinfo=UTC) == files.now


def test_a_withdrawal_committed_elsewhere_is_seen_by_a_session_that_read_it_before(
    db_store: Store,
) -> None:
    # Two withdrawals racing: the second must see the first's, not its own stale copy.
    with db_store.sessions() as session:
        files = Files(session)
        sent = files.send((OCT3, 12), file="a.xlsx")
        session.commit()
        with db_store.sessions() as other:
            first = find_submission(other, sent.id, lock=True)
            assert first is not None
            withdraw_submission(other, first, by="ada", now=files.now)
            other.commit()
        again = find_submission(session, sent.id, lock=True)
        assert again is not None and again.withdrawn_at is not None
