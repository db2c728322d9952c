"""Recording files: new meetings, idempotent resends, held changes, confirmation, history."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kernel.quarters import Quarter
from store.held import confirm_held, expire_held, keep_held, pending_held
from store.history import as_of, meeting_history
from store.meetings import record_submission
from store.models import HeldChange, Meeting, MeetingVersion, Submission
from store.views import DbStoredMeetings
from tests.store_support import (
    T0,
    counts,
    flag_as_validation_would,
    load_registry,
    record,
    report,
    row,
)
from validation.columns import Edition
from validation.issues import Issue

OCT3, OCT17 = date(2024, 10, 3), date(2024, 10, 17)


def _n(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def _first_file() -> list:
    return [row(2, "Croydon", OCT3), row(3, "Croydon", OCT17, cases=9, ref_other=0)]


def _held(session: Session) -> list[tuple[str, str]]:
    return [
        (h.sender, h.status) for h in session.scalars(select(HeldChange).order_by(HeldChange.id))
    ]


def test_new_rows_are_accepted_with_their_file(db_session: Session) -> None:
    load_registry(db_session)
    raw = b"the workbook bytes"
    first = report(*_first_file())
    first.issues.append(
        Issue.make(
            "normalised-value", sheet="Marac data", cell="C2", row=2, value="12", normalised="12"
        )
    )
    submission = record(db_session, first, raw=raw)
    assert submission.raw == raw  # in the recording session too: written once, at the end
    db_session.commit()
    db_session.expire_all()
    stored = db_session.get_one(Submission, submission.id)
    assert (stored.status, stored.rows_total, stored.rows_accepted) == ("accepted", 2, 2)
    assert stored.raw == raw and stored.sha256 == hashlib.sha256(raw).hexdigest()
    assert [(i.code, i.cell, i.value) for i in stored.issues] == [("normalised-value", "C2", "12")]
    versions = db_session.scalars(select(MeetingVersion).order_by(MeetingVersion.sheet_row)).all()
    assert [(v.version, v.is_current, v.sheet_row, v.cases) for v in versions] == [
        (1, True, 2, 12),
        (1, True, 3, 9),
    ]
    assert versions[0].ref_other is None and versions[1].ref_other == 0  # blank is not zero
    assert db_session.scalars(select(Meeting.quarter)).all() == ["Q3 2024/25"] * 2


def test_the_returned_submission_holds_what_was_written(db_session: Session) -> None:
    """Counts and issues are written by Core statements (issue 14): the object returned says
    what the table says, has nothing left to flush, and reads its issues, in order, back."""
    load_registry(db_session)
    sent = report(*_first_file(), row(4, "Nowhere", OCT17))
    sent.issues += [Issue.make("normalised-value", sheet="Marac data", cell=cell, row=n,
                               value="12", normalised="12") for n, cell in ((3, "C3"), (2, "C2"))]
    sent.issues.append(Issue.make("ignored-column", sheet="Marac data", cell="AH1", row=1,
                                  column="Notes", header="Notes"))
    submission = record(db_session, sent)
    assert not db_session.dirty and not db_session.new
    written = (submission.status, submission.rows_total, submission.rows_accepted,
               submission.rows_rejected, submission.rows_held, submission.rows_unchanged)
    assert written == (sent.status, 3, 2, 1, 0, 0)
    issues = [(i.position, i.code, i.severity, i.sheet, i.cell, i.row, i.column, i.value,
               i.message) for i in submission.issues]
    assert issues[:3] == [
        (0, "normalised-value", "info", "Marac data", "C3", 3, None, "12", sent.issues[0].message),
        (1, "normalised-value", "info", "Marac data", "C2", 2, None, "12", sent.issues[1].message),
        (2, "ignored-column", sent.issues[2].severity.value, "Marac data", "AH1", 1, "Notes",
         None, sent.issues[2].message),
    ]
    assert len(issues) == len(sent.issues) >= 4  # and the unregistered Marac's row
    db_session.commit()
    db_session.expire_all()
    stored = db_session.get_one(Submission, submission.id)
    assert (stored.status, stored.rows_total, stored.rows_accepted, stored.rows_rejected,
            stored.rows_held, stored.rows_unchanged) == written
    assert [(i.position, i.code, i.severity, i.sheet, i.cell, i.row, i.column, i.value,
             i.message) for i in stored.issues] == issues


def test_the_same_file_twice_records_nothing_new(db_session: Session) -> None:
    load_registry(db_session)
    record(db_session, report(*_first_file()))
    db_session.commit()
    again = report(*_first_file())
    flag_as_validation_would(db_session, again)
    assert all(r.unchanged for r in again.rows)
    record(db_session, again, now=T0 + timedelta(hours=1))
    db_session.commit()
    assert (again.rows_unchanged, again.rows_accepted, again.status) == (2, 0, "accepted")
    assert _n(db_session, MeetingVersion) == 2 and _n(db_session, HeldChange) == 0


def test_store_corrects_stale_validation(db_session: Session) -> None:
    """Validation ran before another file landed: the store's comparison wins, and says so."""
    load_registry(db_session)
    record(db_session, report(*_first_file()))
    db_session.commit()
    stale = report(row(2, "Croydon", OCT3), row(3, "Croydon", OCT17, cases=10))  # flags: new
    record(db_session, stale, now=T0 + timedelta(hours=1))
    db_session.commit()
    assert [(r.unchanged, r.held) for r in stale.rows] == [(True, False), (False, True)]
    assert [(i.code, i.cell, i.row) for i in stale.issues] == [
        ("unchanged", "A2", 2),
        ("changed-from-previous", "C3", 3),
    ]
    assert "C Cases discussed: 9 → 10" in stale.issues[1].message
    assert stale.status == "held" and _n(db_session, MeetingVersion) == 2


def test_changed_row_is_held_then_confirmed_with_history_kept(db_session: Session) -> None:
    load_registry(db_session)
    first = record(db_session, report(*_first_file()))
    db_session.commit()
    t1 = T0 + timedelta(days=1)
    changed = report(row(3, "Croydon", OCT17, cases=10, ref_other=None), file="croydon-fixed.xlsx")
    flag_as_validation_would(db_session, changed)
    second = record(db_session, changed, now=t1)
    db_session.commit()
    assert changed.rows_held == 1 and second.status == "held"
    stored = DbStoredMeetings(db_session)
    assert stored.current("Croydon", OCT17) == counts(cases=9, ref_other=0)  # not applied yet
    assert [(h.meeting.meeting_date, h.counts["cases"]) for h in pending_held(db_session)] == [
        (OCT17, 10)
    ]

    t2 = T0 + timedelta(days=2)
    assert confirm_held(db_session, sender="cara@example.org", submission_id=second.id, now=t2) == 1
    db_session.commit()
    assert stored.current("Croydon", OCT17) == counts(cases=10, ref_other=None)
    history = meeting_history(db_session, "Croydon", OCT17)
    assert [(h.version, h.is_current, h.filename, h.sheet_row) for h in history] == [
        (1, False, "croydon-q3.xlsx", 3),
        (2, True, "croydon-fixed.xlsx", 3),
    ]
    assert history[0].superseded_at == t2 and history[1].recorded_at == t2
    assert history[1].submission_id == second.id and history[0].submission_id == first.id
    assert history[1].sender == "cara@example.org" and len(history[1].sha256) == 64
    assert as_of(db_session, "Croydon", OCT17, T0 - timedelta(seconds=1)) is None
    assert as_of(db_session, "Croydon", OCT17, t2 - timedelta(seconds=1)) == counts(
        cases=9, ref_other=0
    )
    assert as_of(db_session, "Croydon", OCT17, t2) == counts(cases=10, ref_other=None)
    assert _held(db_session) == [("cara@example.org", "confirmed")]
    assert confirm_held(db_session, sender="cara@example.org", now=t2) == 0  # nothing left


def test_resubmitting_with_confirm_applies_and_settles_pending(db_session: Session) -> None:
    load_registry(db_session)
    record(db_session, report(*_first_file()))
    changed = report(row(2, "Croydon", OCT3, cases=13))
    flag_as_validation_would(db_session, changed)
    record(db_session, changed, now=T0 + timedelta(hours=1))
    assert _held(db_session) == [("cara@example.org", "pending")]
    confirmed = report(row(2, "Croydon", OCT3, cases=14))
    flag_as_validation_would(db_session, confirmed)
    record(db_session, confirmed, confirm=True, now=T0 + timedelta(hours=2))
    db_session.commit()
    assert (confirmed.rows_accepted, confirmed.rows_held, confirmed.status) == (1, 0, "accepted")
    assert DbStoredMeetings(db_session).current("Croydon", OCT3) == counts(cases=14)
    assert _held(db_session) == [("cara@example.org", "confirmed")]
    assert [v.version for v in meeting_history(db_session, "Croydon", OCT3)] == [1, 2]


def test_a_newer_hold_supersedes_the_same_senders_older_one(db_session: Session) -> None:
    load_registry(db_session)
    record(db_session, report(*_first_file()))
    for n, (sender, cases) in enumerate(
        [("cara@example.org", 20), ("ada@example.org", 21), ("cara@example.org", 22)], start=1
    ):
        held = report(row(2, "Croydon", OCT3, cases=cases))
        flag_as_validation_would(db_session, held)
        record(db_session, held, sender=sender, now=T0 + timedelta(hours=n))
    db_session.commit()
    assert _held(db_session) == [
        ("cara@example.org", "superseded"),
        ("ada@example.org", "pending"),
        ("cara@example.org", "pending"),
    ]
    assert keep_held(db_session, sender="ada@example.org", now=T0 + timedelta(hours=5)) == 1
    assert confirm_held(db_session, sender="cara@example.org", now=T0 + timedelta(hours=5)) == 1
    assert DbStoredMeetings(db_session).current("Croydon", OCT3) == counts(cases=22)
    assert [s for _, s in _held(db_session)] == ["superseded", "kept", "confirmed"]


def test_unconfirmed_changes_expire(db_session: Session) -> None:
    load_registry(db_session)
    record(db_session, report(*_first_file()))
    held = report(row(2, "Croydon", OCT3, cases=30))
    flag_as_validation_would(db_session, held)
    record(db_session, held, now=T0)
    db_session.commit()
    assert expire_held(db_session, T0 + timedelta(days=13)) == []
    late = T0 + timedelta(days=14)
    assert confirm_held(db_session, sender="cara@example.org", now=late) == 0  # too late
    expired = expire_held(db_session, late)
    db_session.commit()
    assert [(e.sender, e.status, e.meeting.marac.name) for e in expired] == [
        ("cara@example.org", "expired", "Croydon")
    ]
    assert expire_held(db_session, late) == []
    assert DbStoredMeetings(db_session).current("Croydon", OCT3) == counts()


def test_a_redelivered_message_records_nothing(db_session: Session) -> None:
    load_registry(db_session)
    first = record(db_session, report(*_first_file()), dedupe_key="<m1@example.org>:abc")
    db_session.commit()
    again = record(db_session, report(*_first_file()), dedupe_key="<m1@example.org>:abc")
    assert again.id == first.id and _n(db_session, Submission) == 1


def test_a_rejected_file_is_kept_but_stores_no_meetings(db_session: Session) -> None:
    load_registry(db_session)
    rejected = report(file="notes.docx")
    rejected.issues.append(Issue.make("unreadable-file", reason="it is a Word document"))
    submission = record_submission(
        db_session,
        report=rejected,
        raw=b"not a workbook",
        channel="cli",
        sender="cara@example.org",
        received_at=T0,
        declared_quarter=Quarter(2024, 3),
        dedupe_key=None,
        confirm=False,
        held_expiry=timedelta(days=14),
    )
    db_session.commit()
    assert (submission.status, submission.declared_quarter) == ("rejected", "Q3 2024/25")
    assert submission.issues[0].code == "unreadable-file" and _n(db_session, Meeting) == 0


def test_hard_rows_and_unregistered_maracs_are_not_stored(db_session: Session) -> None:
    load_registry(db_session)
    bad = row(3, "Croydon", OCT17)
    bad.hard = True
    stray = row(4, "Nowhere", OCT17)
    stray.marac = None  # validation ran without a registry
    alias = row(5, "Croydon Borough", OCT17)
    alias.marac = None
    mixed = report(row(2, "Croydon", OCT3), bad, stray, alias)
    record(db_session, mixed)
    db_session.commit()
    assert (mixed.rows_accepted, mixed.rows_rejected) == (2, 2)
    assert [(i.code, i.cell) for i in mixed.issues] == [("unknown-marac", "A4")]
    assert sorted(db_session.scalars(select(Meeting.meeting_date))) == [OCT3, OCT17]


def test_a_submission_and_its_meetings_keep_when_and_how_they_were_recorded(
    db_session: Session,
) -> None:
    """The recording's own clock (not the database's default, not the time of the test), the
    template's edition, whether the sender confirmed; the meeting made then, and a pending
    change settled then (from a mutation run over store/meetings.py)."""
    load_registry(db_session)
    first = record(db_session, report(*_first_file()))
    changed = report(row(2, "Croydon", OCT3, cases=13))
    flag_as_validation_would(db_session, changed)
    record(db_session, changed, now=T0 + timedelta(hours=1))
    confirmed = report(row(2, "Croydon", OCT3, cases=14))
    confirmed.edition = Edition.SCOTLAND
    flag_as_validation_would(db_session, confirmed)
    again = record(db_session, confirmed, confirm=True, now=T0 + timedelta(hours=2))
    db_session.commit()
    db_session.expire_all()
    one, three = db_session.get_one(Submission, first.id), db_session.get_one(Submission, again.id)
    assert (one.recorded_at, one.edition, one.confirm) == (T0, "uk", False)
    assert (three.recorded_at, three.edition, three.confirm) == (
        T0 + timedelta(hours=2), "scotland", True)
    assert [m.created_at for m in db_session.scalars(select(Meeting).order_by(Meeting.id))] == [
        T0, T0]
    [held] = db_session.scalars(select(HeldChange)).all()
    assert (held.status, held.resolved_at) == ("confirmed", T0 + timedelta(hours=2))
