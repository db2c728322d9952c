"""Withdrawing a submission (issue 13): its meetings go back to the figures before it as new
versions, nothing deleted, the submitter told; who may withdraw what. On SQLite and PostgreSQL,
through the command line and the store."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from email import message_from_bytes, policy

import pytest
from sqlalchemy import select

from bot.cli import main
from handlers.withdraw import Refusal, Refused, requested, withdraw
from kernel import wording
from store.db import Store
from store.held import confirm_held
from store.history import VersionKind, histories, meeting_history
from store.models import HeldChange, HeldStatus, Marac, Submission
from store.queue import OutboundItem
from store.registry import find_contact
from store.withdraw import MeetingFate, Withdrawal
from tests.history_support import OCT3, OCT17, Story, told_for_cli
from tests.store_support import flag_as_validation_would, load_registry, record, report, row

LATER = datetime(2025, 1, 10, 12, 0, tzinfo=UTC)
BEFORE_DUE, AFTER_DUE = date(2025, 1, 28), date(2025, 1, 29)  # Q3 2024/25 is due 28 Jan


@pytest.fixture
def story(db_url: str, tmp_path_factory: pytest.TempPathFactory,
          monkeypatch: pytest.MonkeyPatch) -> Story:
    return told_for_cli(db_url, tmp_path_factory, monkeypatch)


def _export(capsys: pytest.CaptureFixture[str]) -> list[dict[str, str]]:
    assert main(["report", "meetings", "--year", "2024/25"]) == 0
    return list(csv.DictReader(io.StringIO(capsys.readouterr().out)))


def test_withdrawing_a_correction_puts_the_figures_before_it_back_as_a_new_version(
    story: Story, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["withdraw", str(story.corrected), "--reason", "wrong Marac"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"Submission {story.corrected} (croydon-q3-fixed.xlsx, sent by "
                             "cara@example.org on 5 Nov 2024 08:59) is withdrawn.")
    assert out[1] == f"- Croydon, 3 Oct 2024: back to the figures of submission {story.first}."
    assert len(out) == 3  # 17 Oct was not in the correction
    store = Store.open(story.url)
    with store.sessions() as session:
        versions = meeting_history(session, "Croydon", OCT3)
        assert [v.counts["cases"] for v in versions] == [12, 14, 12]  # nothing deleted
        restored = versions[2]
        assert restored.is_current and restored.kind is VersionKind.RESTORED
        assert restored.withdrawal_of == story.corrected
        assert restored.submission_id == story.first and restored.sheet_row == 2
        assert restored.recorded_by == "the data team (marac-bot withdraw)"
        assert versions[1].withdrawn_at is not None and not versions[1].is_current
        notices = session.scalars(select(OutboundItem)).all()
        assert [n.recipient for n in notices] == ["cara@example.org"]
        mail = message_from_bytes(notices[0].payload, policy=policy.default)
        body = mail.get_body(("plain",))
        assert body is not None and "Reason given: wrong Marac" in body.get_content()
        assert f"Your submission {story.corrected}" in body.get_content()
    store.close()
    assert [r["Cases discussed"] for r in _export(capsys)] == ["12", "12"]
    # A second withdrawal is refused and changes nothing; an unknown number is a usage error.
    assert main(["withdraw", str(story.corrected)]) == 1
    assert capsys.readouterr().err.strip() == f"Submission {story.corrected} was already withdrawn."
    # interface.md: exit 1 when refused, an unknown number included.
    assert main(["withdraw", "999"]) == 1
    assert "There is no submission 999." in capsys.readouterr().err


def test_withdraw_as_a_contact_has_that_contacts_rights(
    story: Story, capsys: pytest.CaptureFixture[str]
) -> None:
    sid = str(story.corrected)
    assert main(["withdraw", sid, "--as", "nobody@example.org"]) == 1
    assert "'nobody@example.org' is not a registered contact" in capsys.readouterr().err
    # Cara sent it, but Q3 2024/25 was due on 28 Jan 2025: past that only the data team may.
    assert main(["withdraw", sid, "--as", "cara@example.org"]) == 1
    assert "due on 28 Jan 2025" in capsys.readouterr().err
    assert main(["withdraw", sid, "--as", "lena@example.org"]) == 1
    assert "Only the data team can withdraw" in capsys.readouterr().err
    assert main(["withdraw", sid, "--as", "ADA@example.org"]) == 0
    assert capsys.readouterr().out.startswith(f"Submission {sid} (croydon-q3-fixed.xlsx")
    with Store.open(story.url).sessions() as session:
        withdrawn = session.get(Submission, story.corrected)
        assert withdrawn is not None and withdrawn.withdrawn_by == "ada@example.org"


def test_withdrawing_first_figures_leaves_no_figures_and_keeps_what_a_later_file_changed(
    story: Story, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["withdraw", str(story.first)]) == 0
    out = capsys.readouterr().out
    assert "- Croydon, 3 Oct 2024: left as it is, because a later file has changed it since." in out
    assert "- Croydon, 17 Oct 2024: no figures now (this file gave its first ones)." in out
    rows = _export(capsys)
    assert [(r["Meeting date"], r["Cases discussed"]) for r in rows] == [("2024-10-03", "14")]
    assert main(["history", "Croydon", "17 Oct 2024"]) == 0
    assert "No figures now: the only ones sent were withdrawn." in capsys.readouterr().out
    # The export as it stood before the withdrawal still has both meetings.
    assert main(["report", "meetings", "--year", "2024/25", "--as-of", "2024-12-01"]) == 0
    assert len(list(csv.DictReader(io.StringIO(capsys.readouterr().out)))) == 2


def test_a_withdrawn_held_change_can_no_longer_be_confirmed(db_url: str) -> None:
    store = Store.open(db_url)
    with store.sessions() as session:
        load_registry(session)
        record(session, report(row(2, "Croydon", OCT3)))
        changed = report(row(2, "Croydon", OCT3, cases=20), file="fixed.xlsx")
        flag_as_validation_would(session, changed)
        second = record(session, changed, now=LATER)
        ada = find_contact(session, "ada@example.org")
        done = withdraw(session, second.id, by=ada, today=BEFORE_DUE, due_days=28, now=LATER)
        assert isinstance(done, Withdrawal) and done.held_dropped == 1 and done.meetings == ()
        held = session.scalars(select(HeldChange)).one()
        assert held.status == HeldStatus.WITHDRAWN.value
        assert confirm_held(session, sender="cara@example.org", now=LATER) == 0
        assert [v.counts["cases"] for v in meeting_history(session, "Croydon", OCT3)] == [12]
        session.commit()
    store.close()


def test_a_meeting_cleared_by_a_withdrawal_takes_new_figures_as_a_new_version(
    db_url: str,
) -> None:
    store = Store.open(db_url)
    with store.sessions() as session:
        load_registry(session)
        first = record(session, report(row(3, "Croydon", OCT17)))
        ada = find_contact(session, "ada@example.org")
        done = withdraw(session, first.id, by=ada, today=BEFORE_DUE, due_days=28, now=LATER)
        assert isinstance(done, Withdrawal)
        assert [m.fate for m in done.meetings] == [MeetingFate.CLEARED]
        again = report(row(3, "Croydon", OCT17, cases=9), file="again.xlsx")
        flag_as_validation_would(session, again)  # nothing current: not held
        record(session, again, now=LATER)
        marac = session.scalars(select(Marac).where(Marac.name == "Croydon")).one()
        (story,) = histories(session, marac.id, meeting_date=OCT17)
        assert [(v.version, v.is_current, v.counts["cases"]) for v in story.versions] == [
            (1, False, 12), (2, True, 9)]
        session.commit()
    store.close()


def _withdraw_as(db_url: str, email: str, which: str, today: date) -> Withdrawal | Refusal:
    """Record two Croydon Q3 files from Cara, then withdraw ``which`` as ``email``."""
    store = Store.open(db_url)
    with store.sessions() as session:
        load_registry(session)
        first = record(session, report(row(2, "Croydon", OCT3)))
        second = record(session, report(row(3, "Croydon", OCT17), file="more.xlsx"), now=LATER)
        target = {"first": first.id, "second": second.id}[which]
        contact = find_contact(session, email)
        found = withdraw(session, target, by=contact, today=today, due_days=28, now=LATER)
        if isinstance(found, Withdrawal):
            assert session.get_one(Submission, target).withdrawn_by == email
        session.rollback()
    store.close()
    return found


@pytest.mark.parametrize(
    ("email", "which", "today", "refused"),
    [
        ("cara@example.org", "second", BEFORE_DUE, None),  # own, latest, the due day itself
        ("cara@example.org", "second", AFTER_DUE, Refused.PAST_DUE),
        ("cara@example.org", "first", BEFORE_DUE, Refused.NOT_LATEST),
        ("dana@example.org", "second", BEFORE_DUE, Refused.NOT_YOURS),  # another coordinator
        ("chris@example.org", "second", BEFORE_DUE, Refused.NOT_ALLOWED),  # Croydon's chair
        ("lena@example.org", "second", BEFORE_DUE, Refused.NOT_ALLOWED),  # London's manager
        ("ada@example.org", "first", AFTER_DUE, None),  # the data team: any, any time
    ],
)
def test_who_may_withdraw_what(
    db_url: str, email: str, which: str, today: date, refused: Refused | None
) -> None:
    found = _withdraw_as(db_url, email, which, today)
    if refused is None:
        assert isinstance(found, Withdrawal)
    else:
        assert isinstance(found, Refusal) and found.reason is refused
        assert found.text()  # every refusal says why in words


def test_past_due_refusal_names_the_quarter_and_its_due_date(db_url: str) -> None:
    found = _withdraw_as(db_url, "cara@example.org", "second", AFTER_DUE)
    assert isinstance(found, Refusal)
    assert "Q3 2024/25, which was due on 28 Jan 2025" in found.text()


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("withdraw submission 42", 42),
        ("WITHDRAW 42", 42),
        ("Please: withdraw #7", None),  # only when the message starts with it
        ("withdraw submission no. 12\nthanks", 12),
        ("\n\nwithdraw file 3", 3),
        ("withdraw my file", None),
        ("withdrawal of 5", None),
    ],
)
def test_a_withdrawal_is_asked_for_by_number_on_the_first_line(
    text: str, number: int | None
) -> None:
    assert requested(text) == number


def test_the_reply_offers_withdraw_only_while_the_coordinator_may() -> None:
    files = [(7, "croydon-q3.xlsx")]
    due = date(2025, 1, 28)
    before = wording.submission_ids_note(files, soft=False, due=due, past_due=False)
    assert before == ("Recorded as submission 7 (croydon-q3.xlsx). Sent in error? Reply "
                      "WITHDRAW 7 by 28 Jan 2025, when the quarter is due.")
    after = wording.submission_ids_note(files, soft=False, due=due, past_due=True)
    assert after == ("Recorded as submission 7 (croydon-q3.xlsx). Sent in error? The quarter "
                     "was due on 28 Jan 2025, so ask the data team to withdraw submission 7.")
    # A file that recorded nothing has nothing to withdraw.
    nothing = wording.submission_ids_note(files, soft=True, due=None)
    assert nothing.startswith("Recorded as submission 7 (croydon-q3.xlsx). If a checked")
    assert "WITHDRAW" not in nothing
