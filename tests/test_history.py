"""``marac-bot history`` (issue 13): every version of a meeting with its figures, file, sheet
row, sender, time and who confirmed it, on SQLite and PostgreSQL, through the command line."""

from __future__ import annotations

import json
from datetime import date

import pytest

from bot.cli import main
from handlers.history import day_in, period_of
from tests.history_support import Story, told_for_cli

TODAY = date(2025, 1, 10)


@pytest.fixture
def story(db_url: str, tmp_path_factory: pytest.TempPathFactory,
          monkeypatch: pytest.MonkeyPatch) -> Story:
    return told_for_cli(db_url, tmp_path_factory, monkeypatch)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_history_of_a_day_tells_each_version_and_where_it_came_from(
    story: Story, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(capsys, "history", "Croydon", "3 Oct 2024")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "Croydon, meeting of 3 Oct 2024 (Q3 2024/25): 2 versions."
    assert lines[1] == (
        f"Version 1: first figures, from croydon-q3.xlsx (submission {story.first}, row 2), "
        "sent by cara@example.org on 1 Nov 2024 08:59. Replaced on 6 Nov 2024 14:30."
    )
    assert lines[2].startswith("  Figures: C Cases discussed 12; D ")
    assert lines[2].endswith("; 21 columns blank.")
    assert lines[3] == (
        "Version 2: a change confirmed by cara@example.org on 6 Nov 2024 14:30, from "
        f"croydon-q3-fixed.xlsx (submission {story.corrected}, row 2), sent by "
        "cara@example.org on 5 Nov 2024 08:59. Current."
    )
    assert lines[4] == "  Changed: C Cases discussed 12 → 14."
    assert lines[5].startswith(
        f"Held change from croydon-q3-fixed.xlsx (submission {story.corrected}), sent by "
        "cara@example.org on 5 Nov 2024 09:00: confirmed on 6 Nov 2024 14:30."
    )
    # A held change is told against the figures it was held against, not the later ones.
    assert lines[5].endswith(" C Cases discussed: 12 → 14")


def test_history_as_of_a_day_shows_only_what_had_happened_by_its_end(
    story: Story, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(capsys, "history", "croydon", "2024-10-03", "--as-of", "2024-11-05")
    assert code == 0
    assert out.splitlines()[0] == (
        "Croydon, meeting of 3 Oct 2024 (Q3 2024/25) as it stood at the end of 5 Nov 2024: "
        "1 version."
    )
    assert "Current." in out.splitlines()[1] and "Version 2" not in out
    assert "waiting for confirmation" in out  # the correction was held that day
    # The day of the confirmation itself counts to its end.
    _, after, _ = _run(capsys, "history", "croydon", "2024-10-03", "--as-of", "2024-11-06")
    assert "2 versions" in after.splitlines()[0]
    # Before anything was recorded there is nothing to tell.
    # The JSON tells the same: one version, current then, the held change not yet settled.
    _, data, _ = _run(capsys, "history", "croydon", "2024-10-03", "--as-of", "2024-11-05",
                      "--json")
    (oct3,) = json.loads(data)
    assert [(v["version"], v["current"], v["superseded_at"]) for v in oct3["versions"]] == [
        (1, True, None)]
    assert [(h["submission_id"], h["status"]) for h in oct3["held"]] == [
        (story.corrected, "pending")]
    code, before, _ = _run(capsys, "history", "croydon", "q3 2024/25", "--as-of", "2024-10-31")
    assert code == 0 and before.strip() == "No meetings of Croydon are recorded for Q3 2024/25."


def test_history_of_a_quarter_lists_each_meeting_blank_kept_blank(
    story: Story, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(capsys, "history", "Croydon Borough", "Q3 2024/25", "--json")
    assert code == 0
    data = json.loads(out)
    assert [m["meeting_date"] for m in data] == ["2024-10-03", "2024-10-17"]
    oct3, oct17 = data
    assert [v["version"] for v in oct3["versions"]] == [1, 2]
    assert [v["kind"] for v in oct3["versions"]] == ["new", "confirmed"]
    assert oct3["versions"][1]["confirmed_by"] == "cara@example.org"
    assert oct3["versions"][0]["confirmed_by"] is None
    assert oct3["versions"][1]["recorded_at"] == "2024-11-06T14:30:00+00:00"
    assert oct3["versions"][0]["sheet"] == "Marac data" and oct3["versions"][0]["sheet_row"] == 2
    assert oct17["versions"][0]["counts"]["ref_idva"] is None  # blank, not 0
    assert oct17["versions"][0]["counts"]["ref_housing"] == 0


def test_history_refuses_an_unknown_marac_with_1_and_a_bad_period_with_a_usage_error(
    story: Story, capsys: pytest.CaptureFixture[str]
) -> None:
    # interface.md: "0, 1 unknown Marac"; nothing recorded is an answer (0).
    code, _, err = _run(capsys, "history", "Croydn")
    assert code == 1 and "no Marac called “Croydn”" in err and "Did you mean Croydon?" in err
    code, _, err = _run(capsys, "history", "Croydon", "someday")
    assert code == 2 and "neither a day" in err
    code, out, _ = _run(capsys, "history", "Leeds")
    assert code == 0 and out.strip() == "No meetings of Leeds are recorded."


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("history of Croydon 3 Oct 2024", date(2024, 10, 3)),
        ("where did Croydon's 3 Oct figures come from?", date(2024, 10, 3)),
        ("3rd of October", date(2024, 10, 3)),
        ("October 3, 2023", date(2023, 10, 3)),
        ("2024-10-03", date(2024, 10, 3)),
        ("03/10/2024", date(2024, 10, 3)),  # day first, as in the UK
        ("10 Jan", date(2025, 1, 10)),  # today itself
        ("11 Jan", date(2024, 1, 11)),  # a day not yet come this year: last year's
        ("31 Feb 2024", None),
        ("Q3 2024/25", None),
        ("may 2024", None),
    ],
)
def test_a_meeting_day_is_read_from_words(text: str, day: date | None) -> None:
    assert day_in(text, today=TODAY) == day


def test_a_period_is_a_day_a_quarter_or_everything() -> None:
    assert period_of(None, today=TODAY) == period_of("  ", today=TODAY)
    found = period_of("q3 24/25", today=TODAY)
    assert found is not None and found.quarter is not None and found.day is None
    assert period_of("nonsense", today=TODAY) is None
