"""Explanations kept in the store (store/explanations.py), pinned where a mutation run found
them loose (the channel conversations are in test_explain.py and test_explain_slack.py): whose
latest file is answered, which of its checks are soft and which meeting each is about (a held
row's too), and which explanations the overviews show, in order. Real SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.explanations import (
    explain,
    explained,
    explained_meetings,
    explanations_in,
    latest_submission,
    soft_issues,
)
from store.models import Marac, Meeting, Submission
from tests.store_support import flag_as_validation_would, load_registry, record, report, row
from validation.issues import Issue
from validation.report import ParsedRow

OCT3, OCT17 = date(2024, 10, 3), date(2024, 10, 17)
CARA, DANA = "cara@example.org", "dana@example.org"
NOW = datetime(2025, 1, 10, 9, 0, tzinfo=UTC)
Q3, Q4 = "Q3 2024/25", "Q4 2024/25"


def _children(r: int) -> Issue:
    return Issue.make(
        "children-inconsistent",
        sheet="Marac data",
        cell=f"E{r}",
        row=r,
        detail="Children is 0 but 3 cases had children.",
    )


def _referrals(r: int) -> Issue:
    return Issue.make(
        "referrals-do-not-sum",
        sheet="Marac data",
        cell=f"C{r}",
        row=r,
        value=10,
        total=12,
        cases=10,
    )


def _rate() -> Issue:  # about the quarter, no row
    return Issue.make(
        "unusual-repeat-rate",
        sheet="Marac data",
        marac="Croydon",
        quarter=Q3,
        rate="50%",
        low="28%",
        high="40%",
    )


def _send(
    session: Session,
    sender: str,
    *rows_issues: tuple[ParsedRow, list[Issue]],
    minutes: int,
    held: bool = False,
    file: str = "q3.xlsx",
) -> Submission:
    sent = report(*(r for r, _ in rows_issues), file=file)
    sent.issues = [i for _, issues in rows_issues for i in issues]
    if held:
        flag_as_validation_would(session, sent)
    return record(session, sent, sender=sender, now=NOW + timedelta(minutes=minutes))


def _meeting(session: Session, marac: str, day: date) -> int:
    return session.scalars(
        select(Meeting.id).join(Marac).where(Marac.name == marac, Meeting.meeting_date == day)
    ).one()


def test_soft_checks_of_the_senders_latest_standing_file_and_their_meetings(
    db_session: Session,
) -> None:
    load_registry(db_session)
    hard = Issue.make(
        "invalid-count", sheet="Marac data", cell="D2", row=2, column="Repeat cases", value="x"
    )
    first = _send(
        db_session,
        CARA,
        (row(2, "Croydon", OCT3), [hard, _referrals(2)]),
        (row(3, "Croydon", OCT17), [_children(3), _rate()]),
        minutes=1,
        file="first.xlsx",
    )
    held = _send(
        db_session,
        CARA,
        (row(2, "Croydon", OCT3, cases=14), [_referrals(2)]),
        minutes=2,
        held=True,
        file="held.xlsx",
    )
    _send(db_session, DANA, (row(2, "Leeds", OCT3), []), minutes=3)  # someone else's, later
    latest = latest_submission(db_session, CARA)
    assert latest is not None and latest.id == held.id
    held.withdrawn_at = NOW
    latest = latest_submission(db_session, CARA)
    assert latest is not None and latest.id == first.id

    oct3, oct17 = _meeting(db_session, "Croydon", OCT3), _meeting(db_session, "Croydon", OCT17)
    found = soft_issues(db_session, first)
    assert [(i.submission_id, i.filename, i.code, i.cell, i.row, i.meeting_id) for i in found] == [
        (first.id, "first.xlsx", "referrals-do-not-sum", "C2", 2, oct3),
        (first.id, "first.xlsx", "children-inconsistent", "E3", 3, oct17),
        (first.id, "first.xlsx", "unusual-repeat-rate", None, None, None),
    ]
    assert found[0].message == _referrals(2).message
    (on_held,) = soft_issues(db_session, held)  # the held row recorded nothing: its change
    assert (on_held.submission_id, on_held.meeting_id) == (held.id, oct3)


def test_explanations_are_found_by_submission_by_meeting_and_by_quarter(
    db_session: Session,
) -> None:
    load_registry(db_session)
    croydon = _send(
        db_session,
        CARA,
        (row(2, "Croydon", OCT3), [_referrals(2)]),
        (row(3, "Croydon", OCT17), [_children(3)]),
        minutes=1,
    )
    again = _send(
        db_session, CARA, (row(2, "Croydon", OCT3, cases=14), [_referrals(2)]), minutes=2, held=True
    )
    leeds = _send(db_session, DANA, (row(2, "Leeds", OCT3), [_referrals(2)]), minutes=3)
    referrals, children = soft_issues(db_session, croydon)
    explain(db_session, children, "three families", by=CARA, now=NOW)
    explain(db_session, referrals, "a joint referral", by=CARA, now=NOW)
    (leeds_referrals,) = soft_issues(db_session, leeds)
    explain(db_session, leeds_referrals, "Leeds reason", by=DANA, now=NOW)
    (again_referrals,) = soft_issues(db_session, again)
    explain(db_session, again_referrals, "still a joint referral", by=CARA, now=NOW)

    assert explained(db_session, []) == set()
    assert explained(db_session, [croydon.id]) == {
        (croydon.id, "referrals-do-not-sum", "C2"),
        (croydon.id, "children-inconsistent", "E3"),
    }

    known = explained_meetings(db_session, [("Croydon", OCT3)])
    assert list(known) == [("Croydon", OCT3, "referrals-do-not-sum")]  # not Leeds's 3 Oct
    latest = known["Croydon", OCT3, "referrals-do-not-sum"]
    assert (latest.marac, latest.meeting_date, latest.code, latest.cell, latest.text) == (
        "Croydon",
        OCT3,
        "referrals-do-not-sum",
        "C2",
        "still a joint referral",
    )

    shown = explanations_in(db_session, None, [Q3])
    assert [(e.marac, e.meeting_date, e.text) for e in shown] == [
        ("Croydon", OCT3, "a joint referral"),
        ("Croydon", OCT3, "still a joint referral"),
        ("Croydon", OCT17, "three families"),
        ("Leeds", OCT3, "Leeds reason"),
    ]
    assert [e.code for e in shown] == ["referrals-do-not-sum"] * 2 + [
        "children-inconsistent",
        "referrals-do-not-sum",
    ]
    assert (shown[2].cell, shown[2].explained_by) == ("E3", CARA)
    croydon_id = db_session.scalars(select(Marac.id).where(Marac.name == "Croydon")).one()
    assert {e.marac for e in explanations_in(db_session, [croydon_id], [Q3])} == {"Croydon"}
    assert explanations_in(db_session, None, [Q4]) == []
