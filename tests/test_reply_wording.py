"""Replies that read well (issue 12): a headline in words, identical findings said once, no
internal codes, every placeholder filled, rates compared as shown, refusals that say how to
reach the data team. Conversations run through the stored inbox, the Worker and the real
dispatcher on SQLite and PostgreSQL; the rest on the values that build the replies.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from pathlib import Path

import pytest

from bot.settings import Settings
from kernel import wording
from kernel.config import Bands
from kernel.quarters import Quarter
from reports.issue_groups import group_issues
from reports.issue_sheet import issue_fields
from reports.text import issue_line
from store.db import Store
from tests.dispatch_support import (
    MAILBOX,
    Mailroom,
    body_of,
    compose,
    fixture,
    html_of,
    load_registry,
)
from validation.checks.bands import _rate_issues
from validation.context import ValidationContext
from validation.issues import VALUE_CHARS, Issue

STRANGER = "stranger@elsewhere.example"
# Every issue code, as it would look in a coordinator's text: "(exceeds-cases)".
CODE_IN_TEXT = re.compile(r"\((?:[a-z]+-)+[a-z]+\)")


def settings_for(tmp_path: Path, **extra: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", mailbox_address=MAILBOX, smtp_listen=None,
                    http_listen=None, **extra)  # type: ignore[arg-type]


@pytest.fixture
def mailroom(db_store: Store, tmp_path: Path) -> Mailroom:
    with db_store.transaction() as session:
        load_registry(session)
    return Mailroom(db_store, settings_for(tmp_path))


def test_a_clean_return_is_headlined_all_recorded(mailroom: Mailroom) -> None:
    body = body_of(mailroom.exchange(compose(files=[fixture("clean_libreoffice.xlsx")])).reply)
    assert body.splitlines()[0] == "All 6 meetings recorded."


def test_a_harmless_resend_is_nothing_new_not_zero_accepted(mailroom: Mailroom) -> None:
    mailroom.exchange(compose(files=[fixture("clean_libreoffice.xlsx")]))
    again = mailroom.exchange(compose(files=[fixture("clean_libreoffice.xlsx")]))
    body = body_of(again.reply)
    assert body.splitlines()[0] == (
        "Nothing new: these 6 meetings are already recorded with the same figures.")
    assert "0 of 6" not in body
    assert ("clean_libreoffice.xlsx: nothing new for Croydon, Q3 2024/25 (1 Oct – 31 Dec 2024); "
            "all 6 rows are already recorded with the same figures.") in body


def test_held_changes_are_headlined_as_waiting_for_confirmation(mailroom: Mailroom) -> None:
    mailroom.exchange(compose(files=[fixture("clean_libreoffice.xlsx")]))
    held = mailroom.exchange(compose(files=[fixture("corrected_d3.xlsx")]))
    assert body_of(held.reply).splitlines()[0] == (
        "1 meeting with changed figures waits for your confirmation; "
        "5 already recorded with the same figures.")


def test_a_held_change_is_listed_without_advice_which_the_reply_gives_once(
    mailroom: Mailroom,
) -> None:
    mailroom.exchange(compose(files=[fixture("clean_libreoffice.xlsx")]))
    body = body_of(mailroom.exchange(compose(files=[fixture("corrected_d3.xlsx")])).reply)
    held = [line for line in body.splitlines() if line.startswith("  - D3: ")]
    assert held == ["  - D3: Croydon on 17 Oct 2024 was already sent with different figures: "
                    "D Number of repeat cases: 6 → 7."]
    assert body.count("Reply CONFIRM") == 1 and "Please confirm the new figures" not in body


def test_no_code_sheet_prefix_or_empty_name_reaches_the_coordinator(mailroom: Mailroom) -> None:
    # (Not lambeth_q3.xlsx, refused whole for its Marac: such a file gets no copy.)
    reply = mailroom.exchange(compose(files=[fixture("several_issues.xlsx"),
                                             fixture("many_issues.xlsx")])).reply
    for text in (body_of(reply), html_of(reply)):
        assert not CODE_IN_TEXT.search(text), CODE_IN_TEXT.search(text)
        assert "[Marac data]" not in text and "(-checked.xlsx)" not in text
    assert ("The attached copies of your files (several_issues-checked.xlsx and "
            "many_issues-checked.xlsx) mark each problem cell") in body_of(reply)


def test_the_html_part_is_a_table_coloured_like_the_workbook(mailroom: Mailroom) -> None:
    html = html_of(mailroom.exchange(compose(files=[fixture("several_issues.xlsx")])).reply)
    assert "<h2" in html and "3 of 6 meetings recorded" in html
    assert html.count("<table") == 2  # must fix, please check
    assert "<th" in html and all(title in html for title in wording.REPLY_TABLE_COLUMNS)
    assert "background: #FF7C80" in html and "background: #FFC000" in html  # red, amber
    assert "<td" in html and ">D7<" in html


def test_the_refusal_says_how_to_reach_the_data_team(db_store: Store, tmp_path: Path) -> None:
    with db_store.transaction() as session:
        load_registry(session)
    room = Mailroom(db_store, settings_for(tmp_path, data_team_contact_text="0300 123 4567"))
    handled = room.exchange(compose(sender=STRANGER, files=[fixture("clean_libreoffice.xlsx")]))
    body = body_of(handled.reply)
    assert "(you can reach them at 0300 123 4567)" in body
    assert body.strip() == wording.unknown_sender_text(MAILBOX, "0300 123 4567")


def test_the_data_team_contact_defaults_to_the_mailbox() -> None:
    assert Settings.from_env({}).data_team_contact == "marac@localhost"
    assert Settings.from_env({"MARAC_DATA_TEAM_CONTACT": "data@x.org"}).data_team_contact == (
        "data@x.org")


def _not_authorised(row: int) -> Issue:
    return Issue.make("not-authorised", sheet="Marac data", cell=f"A{row}", row=row,
                      column="Marac", value="Croydon")


def test_six_identical_findings_are_one_line_naming_their_cells() -> None:
    (group,) = group_issues([_not_authorised(r) for r in range(2, 8)])
    assert group.line() == (
        "You are not registered to send data for Croydon (A2–A7). Please ask that Marac's "
        "coordinator to send it, or ask the data team to add you.")
    assert group.wrong == "You are not registered to send data for Croydon (A2–A7)."
    assert group.change.startswith("Please ask that Marac's coordinator")


def test_findings_that_differ_stay_apart() -> None:
    other = Issue.make("not-authorised", sheet="Marac data", cell="A9", row=9, column="Marac",
                       value="Lambeth")
    assert len(group_issues([_not_authorised(2), other, _not_authorised(3)])) == 2


@pytest.mark.parametrize(("cells", "said"), [
    (["A2"], "A2"),
    (["A2", "A3"], "A2 and A3"),
    (["A2", "A3", "A4"], "A2–A4"),
    (["A2", "A3", "A4", "C9"], "A2–A4 and C9"),
    ([f"D{r}" for r in range(2, 40, 2)], "D2, D4, D6, D8, D10, D12, D14, D16, D18, D20 and 9 more"),
])
def test_cells_are_listed_compactly(cells: list[str], said: str) -> None:
    assert wording.cell_list(cells) == said


def test_a_message_that_starts_with_its_cell_does_not_say_it_twice() -> None:
    issue = Issue.make("normalised-value", sheet="Marac data", cell="B6", row=6,
                       value="03/10/2024", normalised="3 Oct 2024")
    assert "B6: B6" not in issue_line(issue)
    assert issue_line(issue).startswith("  [Marac data] B6: we read")


@pytest.mark.parametrize("length", [VALUE_CHARS, VALUE_CHARS + 1, 3000])
def test_a_sheet_name_is_shown_cut_like_a_cell_s_value(length: int) -> None:
    """Excel names a sheet in 31 characters; a hand-made file may use thousands, and every
    issue names its sheet: the text line, the JSON and the Issues sheet show at most
    VALUE_CHARS of it, the last an ellipsis (the annotated copy still finds the sheet by its
    whole name)."""
    name = "S" * length
    issue = Issue.make("invalid-count", sheet=name, cell="C4", row=4, value="twelve")
    expected = name if length <= VALUE_CHARS else name[:VALUE_CHARS - 1] + "…"
    assert issue_line(issue).startswith(f"  [{expected}] C4: ")
    assert issue.to_dict()["sheet"] == expected
    assert issue_fields(issue)[2] == expected
    assert issue.sheet == name
    assert Issue.make("invalid-count", cell="C4").to_dict()["sheet"] is None
    assert issue_fields(Issue.make("invalid-count", cell="C4"))[2] is None


Q3 = Quarter(2024, 3)


def _repeat_rate(repeats: int, cases: int) -> list[Issue]:
    context = ValidationContext(today=date(2025, 2, 1), bands=Bands())
    meetings: list[Mapping[str, int | None]] = [
        {"repeat_cases": repeats, "cases": cases, "ref_police": 0}]
    return list(_rate_issues("Croydon", Q3, meetings, "Marac data", context))


@pytest.mark.parametrize(("repeats", "flagged"), [
    (276, False),  # 27.6% shows as 28%: inside the usual 28%–40%, so nothing to say
    (275, False),  # 27.5% also shows as 28% (round half to even of 27.5 is 28)
    (274, True),  # 27.4% shows as 27%
    (404, False),  # 40.4% shows as 40%
    (405, False),  # 40.5% shows as 40% (the float 0.405 is just below one half)
    (406, True),  # 40.6% shows as 41%
])
def test_a_rate_is_compared_as_it_is_shown(repeats: int, flagged: bool) -> None:
    found = _repeat_rate(repeats, 1000)
    assert bool(found) is flagged
    for issue in found:
        rate = issue.params["rate"]
        assert rate not in (issue.params["low"], issue.params["high"]), issue.message
