"""One meeting, three ways in (issue 16): a row of a file, a Slack form, a Teams card. Each goes
through the same validation, held changes, bands and recording, so each must give the same
issues and store the same figures; a form is a submission with its provenance like a file.

Real SQLite and PostgreSQL (``db_session``); the Slack and Teams inputs are shaped as those
platforms send them and read by the channels' own converters.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.channels.slack import form_view
from bot.channels.teams import cards_form
from handlers import form_entry
from handlers.submission import Submitted, submit_files
from kernel.config import Policy
from kernel.entry import EntryKind, MeetingEntry
from kernel.messages import Attachment, InboundMessage, ThreadRef
from store.held import confirm_held
from store.history import meeting_history
from store.models import Submission
from store.registry import import_csv
from store.views import DbStoredMeetings
from validation.columns import COUNT_KEYS, FIELDS, Edition
from validation.report import FileReport

MARACS = """name,aliases,police_force_area,region,nation,local_authorities,adult_female_population
Croydon,,Metropolitan Police,London,England,London Borough of Croydon,160300
Glasgow,,Police Scotland,Scotland,Scotland,Glasgow City Council,260000
"""
CARA, GIL, ADA = "cara@example.org", "gil@example.org", "ada@example.org"
CONTACTS = f"""name,email,role,maracs,slack_user_id,teams_id,channels
Cara Coordinator,{CARA},coordinator,Croydon,U001,aad-cara,email;slack;teams
Gil Coordinator,{GIL},coordinator,Glasgow,U002,,email;slack
Ada Admin,{ADA},admin,*,U003,,email
"""
DAY = date(2024, 10, 3)
TODAY = date(2025, 1, 10)
NOW = datetime(2025, 1, 10, 10, 0, tzinfo=UTC)
POLICY = Policy()
# Blank (not collected) and 0 (none) side by side; children 0 with 3 cases with children is a
# soft row issue, and 12 cases in a quarter is far below Croydon's expected volume (a band).
MEETING: dict[str, int | None] = {
    **dict.fromkeys(COUNT_KEYS),
    "cases": 12,
    "repeat_cases": 4,
    "children": 0,
    "cases_with_children": 3,
    "ref_police": 6,
    "ref_idva": 3,
    "ref_housing": 0,
    "male": 1,
}


@pytest.fixture
def session(db_session: Session) -> Session:
    for text in (MARACS, CONTACTS):
        result = import_csv(db_session, text)
        assert result.ok, result.summary()
    db_session.commit()
    return db_session


# -- the three ways in -------------------------------------------------------------------------


def as_file(session: Session, counts: Mapping[str, int | None], *, key: str = "f1") -> FileReport:
    """The meeting as row 2 of a CSV file, submitted as email would submit it."""
    header = ",".join(f'"{f.uk_header}"' for f in FIELDS)
    cells = ["Croydon", DAY.strftime("%d/%m/%Y")] + [
        "" if counts[k] is None else str(counts[k]) for k in COUNT_KEYS
    ]
    data = (header + "\n" + ",".join(cells) + "\n").encode()
    submitted = Submitted(
        sender=CARA,
        channel="email",
        received_at=NOW,
        files=[Attachment("croydon.csv", data)],
        dedupe_prefix=f"email:{key}",
    )
    [received] = submit_files(session, submitted, settings=POLICY, today=TODAY)
    return received.report


def slack_view(
    counts: Mapping[str, Any], *, marac: str = "Croydon", day: str = DAY.isoformat()
) -> dict[str, Any]:
    """A submitted modal's view as Slack posts it: an empty number box is null."""
    values: dict[str, Any] = {
        "marac": {
            form_view.MARAC_ACTION: {"type": "static_select", "selected_option": {"value": marac}}
        },
        "meeting_date": {form_view.DATE_ACTION: {"type": "datepicker", "selected_date": day}},
    }
    for key in COUNT_KEYS:
        value = counts.get(key)
        values[key] = {
            "value": {"type": "number_input", "value": None if value is None else str(value)}
        }
    return {
        "id": "V1",
        "hash": "h1",
        "callback_id": form_view.CALLBACK_ID,
        "state": {"values": values},
    }


def teams_value(counts: Mapping[str, Any]) -> dict[str, Any]:
    """A submitted card's value as Teams posts it: every input as text, "" when empty."""
    value: dict[str, Any] = {
        "marac_form": "record",
        "marac": "Croydon",
        "meeting_date": DAY.isoformat(),
    }
    value.update({k: "" if counts.get(k) is None else str(counts[k]) for k in COUNT_KEYS})
    return value


def record(
    session: Session, entry: MeetingEntry, *, channel: str, key: str, sender: str = CARA
) -> FileReport:
    thread = ThreadRef(channel, "U001", extra={"sender": sender, "dedupe_key": key})
    message = InboundMessage(channel, sender, thread, received_at=NOW, dedupe_key=key, entry=entry)
    result = form_entry.record_entry(
        session, message, entry, sender=sender, settings=POLICY, today=TODAY, now=NOW
    )
    assert result.reply is not None
    [report] = result.reports
    return report


def findings(report: FileReport) -> list[tuple[Any, ...]]:
    """Everything about each issue but the sheet's name (a file's own; the form's label)."""
    return [
        (i.code, i.severity, i.cell, i.row, i.column, i.value, i.message) for i in report.issues
    ]


def stored(session: Session) -> dict[str, int | None] | None:
    current = DbStoredMeetings(session).current("Croydon", DAY)
    return None if current is None else dict(current)


# -- tests ---------------------------------------------------------------------------------------


def test_the_same_meeting_by_file_slack_form_and_teams_card_gives_the_same_issues_and_figures(
    session: Session,
) -> None:
    outcomes = {}
    ways = {
        "file": lambda: as_file(session, MEETING),
        "slack": lambda: record(
            session, form_view.to_entry(slack_view(MEETING)), channel="slack", key="view:V1:h1"
        ),
        "teams": lambda: record(
            session, cards_form.to_entry(teams_value(MEETING)), channel="teams", key="teams:a1"
        ),
    }
    for way, submit in ways.items():
        savepoint = session.begin_nested()
        report = submit()
        outcomes[way] = (findings(report), report.status, report.edition, stored(session))
        savepoint.rollback()

    issues, status, edition, figures = outcomes["file"]
    assert {code for code, *_ in issues} == {"children-inconsistent", "unusual-volume"}
    assert status == "accepted" and edition is Edition.UK
    assert figures == MEETING, "blank stays blank, 0 stays 0"
    assert outcomes["slack"] == outcomes["file"]
    assert outcomes["teams"] == outcomes["file"]


def test_a_form_is_a_submission_with_its_channel_sender_time_and_values(
    session: Session,
) -> None:
    record(session, form_view.to_entry(slack_view(MEETING)), channel="slack", key="view:V1:h1")

    submission = session.scalars(select(Submission)).one()
    assert (submission.kind, submission.channel, submission.sender) == ("form", "slack", CARA)
    assert submission.received_at == NOW and submission.status == "accepted"
    kept = json.loads(submission.raw)
    assert kept["marac"] == "Croydon" and kept["meeting_date"] == "2024-10-03"
    assert kept["counts"]["cases"] == "12" and kept["counts"]["minoritised"] is None
    assert (
        MeetingEntry.from_json(submission.raw).counts
        == form_view.to_entry(slack_view(MEETING)).counts
    ), "the values entered, read back as entered"
    [version] = meeting_history(session, "Croydon", DAY)
    assert (version.sheet, version.sheet_row) == (None, None), "a form has no sheet or row"
    assert (version.channel, version.sender, version.filename) == (
        "slack",
        CARA,
        "Meeting form (Slack)",
    )


def test_hard_issues_are_the_files_and_each_lands_on_its_own_box(session: Session) -> None:
    bad = {**MEETING, "repeat_cases": 13, "children": -3}
    file_report = as_file(session, bad)
    entry = form_view.to_entry(slack_view(bad))
    checked = form_entry.check_entry(
        session, entry, sender=CARA, channel="slack", settings=POLICY, today=TODAY
    )

    assert findings(checked.report) == findings(file_report)
    errors = form_entry.field_errors(checked)
    assert errors == {
        "children": "Must be a whole number of 0 or more, not '-3'; leave it blank if not "
        "collected.",
        "repeat_cases": "13 is more than the 12 cases discussed.",
    }
    assert form_view.errors_for(form_view.form_view([]), errors) == errors


def test_a_future_date_and_another_marac_are_caught_in_the_form(session: Session) -> None:
    future = form_view.to_entry(
        slack_view(MEETING, marac="Glasgow", day=(TODAY + timedelta(days=1)).isoformat())
    )
    checked = form_entry.check_entry(
        session, future, sender=CARA, channel="slack", settings=POLICY, today=TODAY
    )
    errors = form_entry.field_errors(checked)
    assert errors["meeting_date"] == "11 Jan 2025 is in the future. Please check the date."
    assert errors["marac"] == (
        "You are not registered to send data for Glasgow. Ask the data team "
        f"({POLICY.mailbox_address}) to add you."
    )
    assert stored(session) is None


def test_changing_a_recorded_meeting_in_the_form_is_held_old_to_new_until_confirmed(
    session: Session,
) -> None:
    as_file(session, MEETING)
    offer = form_entry.form_offer(session, CARA, marac="Croydon", day=DAY)
    assert offer is not None and dict(offer.values) == MEETING, "the form is filled in"

    amended = {**offer.values, "repeat_cases": 9}
    report = record(
        session, form_view.to_entry(slack_view(amended)), channel="slack", key="view:V2:h2"
    )
    assert report.status == "held" and stored(session) == MEETING
    [held] = [i for i in report.issues if i.code == "changed-from-previous"]
    assert "Number of repeat cases: 4 → 9" in held.message

    submission = session.scalars(select(Submission).where(Submission.kind == "form")).one()
    assert confirm_held(session, sender=CARA, submission_id=submission.id, now=NOW) == 1
    assert stored(session) == {**MEETING, "repeat_cases": 9}
    versions = meeting_history(session, "Croydon", DAY)
    assert [(v.version, v.channel, v.is_current, v.sheet_row) for v in versions] == [
        (1, "email", False, 2),
        (2, "slack", True, None),
    ]


def test_a_scottish_marac_gets_the_scotland_headers_and_is_read_by_them(
    session: Session,
) -> None:
    offer = form_entry.form_offer(session, GIL)
    assert offer is not None and offer.choices == (("Glasgow", "scotland"),)
    view = form_view.form_view(form_entry.form_choices(session, GIL))
    labels = {b["block_id"]: b["label"]["text"] for b in view["blocks"] if b["type"] == "input"}
    assert labels["ref_idva"] == "IDAA" and labels["ref_probation"] == "Justice social work"
    card = cards_form.form_card(offer)
    card_labels = {b["id"]: b["label"] for b in card["body"] if b["type"] == "Input.Number"}
    assert card_labels["ref_childrens_social_care"] == "Children and Families Social Work"

    entry = MeetingEntry("Glasgow", DAY, {"cases": "5", "ref_idva": "2"}, EntryKind.FORM)
    report = record(session, entry, channel="slack", key="view:V3:h3", sender=GIL)
    assert report.edition is Edition.SCOTLAND and report.status == "accepted"
    current = DbStoredMeetings(session).current("Glasgow", DAY)
    assert current is not None and current["ref_idva"] == 2 and current["ref_police"] is None


def test_an_admin_may_choose_any_marac_a_coordinator_only_their_own(session: Session) -> None:
    assert [c.name for c in form_entry.form_choices(session, ADA)] == ["Croydon", "Glasgow"]
    assert [c.name for c in form_entry.form_choices(session, CARA)] == ["Croydon"]
    assert form_entry.form_choices(session, "nobody@example.org") == []
