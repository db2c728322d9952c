"""Amendments in words (issue 16): "change Croydon 3 Oct 2024 repeat cases to 9", "Lambeth
14 Nov: police referrals should be 12". Read against the registry, held old → new like any
changed meeting, confirmed as usual; a sentence that leaves something open is asked back.

Through the dispatcher on real SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.dispatch import Dispatcher
from bot.settings import Settings
from handlers.amend import read_amendment
from handlers.result import Outcome
from handlers.submission import Submitted, submit_files
from kernel import wording
from kernel.messages import Attachment, InboundMessage, ThreadRef
from store.db import Store
from store.held import confirm_held
from store.history import meeting_history
from store.models import Submission
from store.registry import import_csv
from store.views import DbStoredMeetings
from tests.dispatch_support import MAILBOX, Mailroom, body_of, compose, fixture, load_registry
from validation.columns import COUNT_KEYS, FIELDS

MARACS = """name,aliases,police_force_area,region,nation,local_authorities,adult_female_population
Croydon,,Metropolitan Police,London,England,London Borough of Croydon,160300
Lambeth,,Metropolitan Police,London,England,London Borough of Lambeth,130000
"""
CARA, LEE = "cara@example.org", "lee@example.org"
CONTACTS = f"""name,email,role,maracs,slack_user_id,teams_id,channels
Cara Coordinator,{CARA},coordinator,Croydon;Lambeth,U001,,email;slack
Lee Coordinator,{LEE},coordinator,Lambeth,U002,,email;slack
"""
TODAY = date(2025, 1, 10)
NOW = datetime(2025, 1, 10, 10, 0, tzinfo=UTC)
CROYDON_DAY, LAMBETH_DAY = date(2024, 10, 3), date(2024, 11, 14)
MEETING = {
    **dict.fromkeys(COUNT_KEYS),
    "cases": 12,
    "repeat_cases": 4,
    "ref_police": 6,
    "ref_housing": 0,
}


@pytest.fixture
def session(db_session: Session) -> Session:
    for text in (MARACS, CONTACTS):
        assert import_csv(db_session, text).ok
    db_session.commit()
    return db_session


def file_with(session: Session, marac: str, day: date) -> None:
    header = ",".join(f'"{f.uk_header}"' for f in FIELDS)
    cells = [marac, day.isoformat()] + [
        "" if MEETING[k] is None else str(MEETING[k]) for k in COUNT_KEYS
    ]
    data = (header + "\n" + ",".join(cells) + "\n").encode()
    submitted = Submitted(
        sender=CARA,
        channel="email",
        received_at=NOW,
        files=[Attachment(f"{marac}.csv", data)],
        dedupe_prefix=None,
    )
    [received] = submit_files(session, submitted, settings=Settings(), today=TODAY)
    assert received.report.status == "accepted"


def said(
    session: Session, text: str, *, channel: str = "email", key: str = "<m1@example.org>"
) -> tuple[Outcome, str]:
    thread = ThreadRef(
        channel,
        CARA if channel == "email" else "D001",
        message_id=key,
        by_address=channel == "email",
        extra={} if channel == "email" else {"sender": CARA, "dedupe_key": key},
    )
    message = InboundMessage(
        channel,
        CARA,
        thread,  # a chat sender as prepare resolves it
        subject="Croydon figures",
        text=text,
        received_at=NOW,
        dedupe_key=key,
    )
    result = Dispatcher(Settings()).dispatch(session, message, now=NOW)
    return result.outcome, result.reply.text if result.reply else ""


@pytest.mark.parametrize(
    ("sentence", "wanted"),
    [
        (
            "change Croydon 3 Oct 2024 repeat cases to 9",
            ("Croydon", CROYDON_DAY, "repeat_cases", 9),
        ),
        (
            "Lambeth 14 Nov: police referrals should be 12",
            ("Lambeth", LAMBETH_DAY, "ref_police", 12),
        ),
        (
            "Please correct croydon 03/10/2024 cases discussed to 13.",
            ("Croydon", CROYDON_DAY, "cases", 13),
        ),
        ("set Croydon 2024-10-03 children to blank", ("Croydon", CROYDON_DAY, "children", None)),
    ],
)
def test_a_sentence_names_the_marac_the_meeting_the_figure_and_its_new_value(
    session: Session, sentence: str, wanted: tuple[object, ...]
) -> None:
    found = read_amendment(session, sentence, today=TODAY)
    assert found.problem is None
    assert (found.marac, found.day, found.key, found.value) == wanted


@pytest.mark.parametrize(
    ("sentence", "problem"),
    [
        ("change Croydon repeat cases to 9", wording.AMEND_NO_DATE),
        ("change Croydon 3 Oct 2024 to 9", wording.AMEND_NO_FIELD),
        ("change 3 Oct 2024 repeat cases to 9", wording.AMEND_NO_MARAC),
        ("change Croydon and Lambeth 3 Oct 2024 repeat cases to 9", wording.AMEND_NO_MARAC),
        ("change Croydon 3 Oct 2024 or 4 Oct 2024 repeat cases to 9", wording.AMEND_NO_DATE),
        (
            "Croydon 3 Oct 2024: police and housing should be 4",
            wording.amend_many_fields(["Police", "Housing"]),
        ),
    ],
)
def test_what_a_sentence_leaves_open_is_asked_back(
    session: Session, sentence: str, problem: str
) -> None:
    assert read_amendment(session, sentence, today=TODAY).problem == problem
    outcome, text = said(session, sentence)
    assert outcome is Outcome.AMEND_ASKED_BACK
    assert text == wording.amend_ask_back(problem)


def test_an_amendment_by_email_is_held_old_to_new_then_confirmed_with_its_provenance(
    session: Session,
) -> None:
    file_with(session, "Croydon", CROYDON_DAY)
    outcome, text = said(session, "change Croydon 3 Oct 2024 repeat cases to 9")

    assert outcome is Outcome.SUBMISSION_HELD
    assert text.splitlines()[:3] == [
        "1 changed figure waits for your confirmation (Croydon's meeting of 3 Oct 2024).",
        "",
        "  - Number of repeat cases: 4 → 9",
    ]
    # The change is said once: not again among the checks, nor in the confirm paragraph.
    assert text.count("4 → 9") == 1 and "already sent" not in text
    assert text.rstrip().endswith(wording.form_confirm_instructions(date(2025, 1, 24)))
    assert DbStoredMeetings(session).current("Croydon", CROYDON_DAY) == MEETING, "held"

    sentence = session.scalars(select(Submission).where(Submission.kind == "sentence")).one()
    assert (sentence.channel, sentence.sender) == ("email", CARA)
    assert confirm_held(session, sender=CARA, submission_id=sentence.id, now=NOW) == 1
    assert DbStoredMeetings(session).current("Croydon", CROYDON_DAY) == {
        **MEETING,
        "repeat_cases": 9,
    }
    versions = meeting_history(session, "Croydon", CROYDON_DAY)
    assert [(v.version, v.filename) for v in versions] == [
        (1, "Croydon.csv"),
        (2, wording.SENTENCE_LABEL),
    ]


def test_an_amendment_in_chat_offers_the_confirm_buttons_through_its_held_change(
    session: Session,
) -> None:
    file_with(session, "Lambeth", LAMBETH_DAY)
    outcome, text = said(
        session,
        "Lambeth 14 Nov: police referrals should be 12",
        channel="slack",
        key="D001:1737.000100",
    )
    assert outcome is Outcome.SUBMISSION_HELD
    assert "Police: 6 → 12" in text
    held = session.scalars(select(Submission).where(Submission.kind == "sentence")).one()
    assert held.dedupe_key is not None
    assert held.dedupe_key.startswith("slack:D001:1737.000100:"), "found by the reply's buttons"


def test_an_amendment_to_a_meeting_never_recorded_says_so_and_records_nothing(
    session: Session,
) -> None:
    outcome, text = said(session, "change Croydon 3 Oct 2024 repeat cases to 9")
    assert outcome is Outcome.AMEND_NOTHING_RECORDED
    assert text == wording.amend_not_recorded("Croydon", CROYDON_DAY)
    assert session.scalars(select(Submission)).all() == []


def test_a_question_is_still_a_question(session: Session) -> None:
    outcome, _ = said(session, "how many cases did Croydon discuss in Q3?")
    assert outcome.value.startswith("question-")


# -- by email, through the stored inbox and outbox and the worker, as `marac-bot run` does -------


def test_an_amendment_emailed_is_held_and_a_confirm_in_reply_applies_it(
    db_store: Store, tmp_path: Path
) -> None:
    with db_store.transaction() as session:
        load_registry(session)
    mailroom = Mailroom(
        db_store,
        Settings(
            data_dir=tmp_path / "data", mailbox_address=MAILBOX, smtp_listen=None, http_listen=None
        ),
    )
    assert mailroom.exchange(compose(files=[fixture("clean_libreoffice.xlsx")])).outcome == (
        "submission-accepted"
    )
    asked = mailroom.exchange(
        compose(
            subject="A correction",
            body="Hi,\n\nChange Croydon 3 Oct 2024 repeat cases to 7\n\nThanks, Cara\n",
        )
    )

    assert asked.outcome == "submission-held"
    body = body_of(asked.reply)
    assert "Number of repeat cases: 5 → 7" in body and "Reply CONFIRM" in body
    ours = asked.reply
    confirm = compose(
        subject=str(ours["Subject"]),
        body="CONFIRM\n",
        in_reply_to=str(ours["Message-ID"]),
        references=[*str(ours["References"]).split(), str(ours["Message-ID"])],
    )
    confirmed = mailroom.exchange(confirm)
    assert confirmed.outcome == "confirmed"
    with db_store.transaction() as session:
        history = meeting_history(session, "Croydon", CROYDON_DAY)
        assert [
            (v.version, v.is_current, v.counts["repeat_cases"], v.channel, v.filename)
            for v in history
        ] == [
            (1, False, 5, "email", "clean_libreoffice.xlsx"),
            (2, True, 7, "email", wording.SENTENCE_LABEL),
        ]


def test_an_amendment_for_another_marac_is_refused_and_says_nothing_of_its_meetings(
    session: Session,
) -> None:
    file_with(session, "Croydon", CROYDON_DAY)
    thread = ThreadRef("email", LEE, message_id="<m9@example.org>", by_address=True)
    for text in (
        "change Croydon 3 Oct 2024 repeat cases to 9",
        "change Croydon 4 Oct 2024 repeat cases to 9",
    ):
        message = InboundMessage(
            "email",
            LEE,
            thread,
            text=text,
            received_at=NOW,
            dedupe_key=f"<{text[-20:]}@example.org>",
        )
        result = Dispatcher(Settings()).dispatch(session, message, now=NOW)
        assert result.outcome is Outcome.SUBMISSION_REJECTED
        assert result.reply is not None
        assert "You are not registered to send data for Croydon." in result.reply.text
        assert result.reply.text.startswith(
            wording.entry_headline("rejected", marac=None, day=None, changed=0)
        ), "nor names the meeting"
        assert "→" not in result.reply.text
    assert DbStoredMeetings(session).current("Croydon", CROYDON_DAY) == MEETING


def test_an_amendment_to_the_figure_already_recorded_says_nothing_new(session: Session) -> None:
    file_with(session, "Croydon", CROYDON_DAY)
    outcome, text = said(session, "change Croydon 3 Oct 2024 repeat cases to 4")
    assert outcome is Outcome.SUBMISSION_ACCEPTED
    assert text.splitlines()[0] == (
        "Nothing new: Croydon's meeting of 3 Oct 2024 is already recorded with the same figures."
    )
    assert "CONFIRM" not in text


def test_the_headline_counts_changed_figures_and_names_the_meeting_when_known() -> None:
    day = date(2024, 10, 3)
    assert wording.entry_headline("held", marac="Croydon", day=day, changed=1) == (
        "1 changed figure waits for your confirmation (Croydon's meeting of 3 Oct 2024)."
    )
    assert wording.entry_headline("held", marac="Croydon", day=day, changed=2).startswith(
        "2 changed figures wait for your confirmation"
    )
    assert wording.entry_headline("accepted", marac="Croydon", day=day, changed=0) == (
        "Croydon's meeting of 3 Oct 2024 was recorded."
    )
    assert wording.entry_headline("accepted", marac=None, day=day, changed=0) == (
        "The meeting was recorded."
    )
