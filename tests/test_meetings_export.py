"""``marac-bot report meetings`` (issue 13): one row per meeting with its figures as they stand
or stood, blank kept blank, and where the figures came from; CSV and xlsx, on SQLite and
PostgreSQL, through the command line."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.cli import main
from reports.meetings_export import headings
from tests.history_support import Story, told_for_cli

CASES, IDVA, HOUSING = "Cases discussed", "IDVA", "Housing"


@pytest.fixture
def story(db_url: str, tmp_path_factory: pytest.TempPathFactory,
          monkeypatch: pytest.MonkeyPatch) -> Story:
    return told_for_cli(db_url, tmp_path_factory, monkeypatch)


def _csv(capsys: pytest.CaptureFixture[str], *argv: str) -> list[dict[str, str]]:
    assert main(["report", "meetings", *argv]) == 0
    text = capsys.readouterr().out
    rows = list(csv.reader(io.StringIO(text)))
    assert tuple(rows[0]) == headings()
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def test_export_has_a_row_per_meeting_with_current_figures_and_provenance(
    story: Story, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = _csv(capsys, "--quarter", "Q3 2024/25", "--region", "London")
    assert [(r["Marac"], r["Meeting date"]) for r in rows] == [
        ("Croydon", "2024-10-03"), ("Croydon", "2024-10-17")]
    oct3, oct17 = rows
    assert oct3[CASES] == "14" and oct3["Version"] == "2"
    assert oct3["Submission"] == str(story.corrected) and oct3["File"] == "croydon-q3-fixed.xlsx"
    assert oct3["Sheet row"] == "2" and oct3["Sender"] == "cara@example.org"
    assert oct3["Received"] == "2024-11-05 08:59" and oct3["Recorded"] == "2024-11-06 14:30"
    assert oct3["Confirmed by"] == "cara@example.org"
    assert oct3["Region"] == "London" and oct3["Police force area"] == "Metropolitan Police"
    assert oct17["Confirmed by"] == "" and oct17["Submission"] == str(story.first)
    assert oct17[IDVA] == "" and oct17[HOUSING] == "0"  # blank stays blank; 0 stays 0


def test_export_as_of_a_day_gives_the_figures_as_they_stood_at_its_end(
    story: Story, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _csv(capsys, "--year", "2024/25", "--marac", "croydon", "--as-of", "2024-11-05")
    assert [r[CASES] for r in before] == ["12", "12"]  # the correction was only held
    assert before[0]["Version"] == "1" and before[0]["File"] == "croydon-q3.xlsx"
    after = _csv(capsys, "--year", "2024/25", "--marac", "croydon", "--as-of", "2024-11-06")
    assert [r[CASES] for r in after] == ["14", "12"]
    assert _csv(capsys, "--year", "2024/25", "--as-of", "2024-10-31") == []
    # Another area, or another year, has nothing.
    assert _csv(capsys, "--year", "2024/25", "--region", "West Yorkshire Police") == []
    assert _csv(capsys, "--year", "2023/24") == []


def test_export_as_a_workbook_keeps_blank_cells_empty(
    story: Story, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "q3.xlsx"
    assert main(["report", "meetings", "--quarter", "q3 24/25", "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == f"Wrote 2 meetings to {out}."
    sheet = load_workbook(out)["Meetings"]
    header = [c.value for c in sheet[1]]
    assert tuple(header) == headings()
    oct17 = {h: c.value for h, c in zip(header, sheet[3], strict=True)}
    assert oct17[IDVA] is None and oct17[HOUSING] == 0 and oct17[CASES] == 12
    assert oct17["Meeting date"].date().isoformat() == "2024-10-17"
    assert sheet.freeze_panes == "A2"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--region", "Narnia"], "--region: I don't know a Marac or area called Narnia."),
        (["--marac", "Croydn"], "Did you mean Croydon?"),
        (["--quarter", "Q5"], "--quarter: 'Q5' is not a quarter"),
        (["--quarter", "Q3 2024/25", "--year", "2024/25"], "not both"),
        (["--out", "meetings.png"], "--out: meetings.png must end .csv or .xlsx"),
    ],
)
def test_export_usage_errors_say_what_is_wrong(
    story: Story, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(["report", "meetings", *argv]) == 2
    assert message in capsys.readouterr().err


def _overview(capsys: pytest.CaptureFixture[str], out: Path, *argv: str) -> dict[str, str]:
    assert main(["report", "overview", "--year", "2024/25", "--out", str(out), *argv]) == 0
    printed = capsys.readouterr().out
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    croydon = next(r for r in rows if r["Marac"] == "Croydon")
    return {**croydon, "printed": printed}


def test_overview_and_national_as_of_a_day_use_the_figures_of_that_day(
    story: Story, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "overview.csv"
    held = _overview(capsys, out, "--as-of", "2024-11-05")
    assert held["printed"].startswith("Figures as they stood at the end of 5 Nov 2024.\n")
    assert (held["Cases"], held["Meetings"], held["Held changes open"]) == ("24", "2", "1")
    confirmed = _overview(capsys, out, "--as-of", "2024-11-06")
    assert (confirmed["Cases"], confirmed["Held changes open"]) == ("26", "0")
    now = _overview(capsys, out)
    assert now["Cases"] == "26" and "stood" not in now["printed"]
    assert _overview(capsys, out, "--as-of", "2024-10-31")["Meetings"] in ("0", "")
    national = tmp_path / "national.csv"
    for day, cases in (("2024-11-05", "24"), ("2024-11-06", "26")):
        argv = ["report", "national", "--year", "2024/25", "--as-of", day, "--out", str(national)]
        assert main(argv) == 0
        capsys.readouterr()
        row = next(r for r in csv.reader(io.StringIO(national.read_text(encoding="utf-8")))
                   if r and r[0] == "Cases discussed")
        assert row[3] == cases  # the Q3 column
