"""Issues are kept up to a cap per code and per file; every finding still acts on its row."""

from __future__ import annotations

from datetime import date

import pytest

from kernel import wording
from kernel.messages import XLSX_TYPE
from reports.reply import ReceivedFile, submission_attachments, submission_text
from validation.findings import MAX_ISSUES_PER_CODE, MAX_ISSUES_PER_FILE, Findings
from validation.issues import Issue, RowMark
from validation.report import FileReport, ParsedRow


def _issue(code: str, row: int, **params: object) -> Issue:
    defaults: dict[str, object] = {"column": "C", "cell": f"C{row}", "row": row}
    return Issue.make(code, **{**defaults, **params})  # type: ignore[arg-type]


def test_each_code_is_kept_up_to_its_cap_and_the_rest_counted() -> None:
    found = Findings(per_code=3, per_file=100)
    found.extend(_issue("missing-cases", row) for row in range(2, 7))
    found.extend(_issue("normalised-value", row, raw="x", shown="y") for row in range(2, 4))
    assert [(i.code, i.row) for i in found.kept] == [
        ("missing-cases", 2), ("missing-cases", 3), ("missing-cases", 4),
        ("normalised-value", 2), ("normalised-value", 3)]
    assert found.omitted == {"missing-cases": 2}


def test_an_issue_past_the_cap_still_rejects_its_row() -> None:
    found = Findings(per_code=1, per_file=100)
    found.extend(_issue("missing-cases", row) for row in (2, 3, 4))
    assert found.hard_rows == {2, 3, 4}
    assert len(found.kept) == 1


def test_held_and_unchanged_rows_are_marked_past_the_cap_and_only_by_their_codes() -> None:
    found = Findings(per_code=1, per_file=100)
    found.extend(_issue("changed-from-previous", row) for row in (2, 3))
    found.extend(_issue("unchanged", row) for row in (4, 5))
    found.extend(_issue("referrals-do-not-sum", row) for row in (6, 7))
    assert found.marked == {RowMark.HELD: {2, 3}, RowMark.UNCHANGED: {4, 5}}
    assert found.hard_rows == set() and len(found.kept) == 3


def test_the_file_cap_holds_across_codes() -> None:
    found = Findings(per_code=10, per_file=4)
    found.extend(_issue("missing-cases", row) for row in range(2, 5))
    found.extend(_issue("missing-date", row) for row in range(2, 5))
    assert len(found.kept) == 4
    assert found.omitted == {"missing-date": 2}
    assert found.hard_rows == {2, 3, 4}


def test_the_caps_are_what_the_wording_tells_people() -> None:
    assert wording.ISSUES_LISTED_PER_KIND == MAX_ISSUES_PER_CODE
    assert MAX_ISSUES_PER_CODE <= MAX_ISSUES_PER_FILE


@pytest.mark.parametrize(("omitted", "says_all"), [({}, True), ({"invalid-count": 7}, False)])
def test_the_reply_counts_what_was_not_listed(omitted: dict[str, int], says_all: bool) -> None:
    report = FileReport(file="big.xlsx", omitted=omitted)
    # Eighteen different findings (each its own value): grouping cannot merge them.
    report.issues = [_issue("invalid-count", row, value=f"x{row}") for row in range(2, 20)]
    report.rows = [ParsedRow(row, "Croydon", date(2024, 10, 3), {}, hard=True)
                   for row in range(2, 20)]
    text = submission_text([ReceivedFile("big.xlsx", b"", report)], held_until=None)
    more = 18 - 15 + sum(omitted.values())
    assert wording.and_more(more, all_listed=says_all) in text
    assert report.to_dict().get("issues_omitted") == (sum(omitted.values()) or None)
    assert "(invalid-count)" not in text  # codes stay in the JSON, the sheet and the CSV
    attached = {a.filename: a for a in submission_attachments(
        [ReceivedFile("big.csv", b"a,b\n", report)])}
    assert list(attached) == ["big-checked.xlsx", "big-issues.csv"]
    assert attached["big-checked.xlsx"].content_type == XLSX_TYPE
    assert attached["big-checked.xlsx"].data.startswith(b"PK")
    listed = attached["big-issues.csv"]
    assert listed.content_type == "text/csv"
    # Every finding is in the full list, one line each under its header.
    assert listed.data.decode("utf-8-sig").count("invalid-count") == 18


def _csv(rows: list[list[object]]) -> bytes:
    import csv
    import io

    from validation.columns import FIELDS

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([f.uk_header for f in FIELDS])
    writer.writerows(rows)
    return out.getvalue().encode()


def test_twenty_thousand_identical_rows_are_one_finding_and_linear_output() -> None:
    # Issue 10, finding 2: this file cost 10 GB and 2 GB of JSON when each row listed the rest.
    import json

    from validation.columns import FIELDS
    from validation.context import ValidationContext
    from validation.validate import validate_bytes

    row: list[object] = ["Croydon", "03/10/2024", 12, 3, 9, 5] + [0] * (len(FIELDS) - 6)
    row[6] = 12  # police: the referrals add up to the cases, so no soft issue per row
    report = validate_bytes(_csv([row] * 20_000), "flood.csv",
                            ValidationContext(today=date(2025, 2, 15)))
    duplicates = [i for i in report.issues if i.code == "duplicate-meeting"]
    assert len(duplicates) == 1 and len(duplicates[0].also_rows) == 19_999
    assert report.rows_rejected == 20_000 and report.status == "rejected"
    assert len(json.dumps(report.to_dict())) < 20_000


@pytest.mark.parametrize(("length", "cut"), [(60, False), (61, True), (50_000, True)])
def test_a_value_from_the_file_is_quoted_at_most_sixty_characters(length: int, cut: bool) -> None:
    issue = Issue.make("invalid-count", column="Police", cell="G2", row=2, value="x" * length)
    quoted = issue.message.split("not ", 1)[1].split(". Please", 1)[0]
    assert len(quoted) == min(length, wording.ECHO_CHARS) + 2
    assert quoted.endswith("…'") is cut
    assert issue.value == "x" * length  # the data keeps the value; only the message is cut


@pytest.mark.parametrize(("cell", "valid"), [
    (2_147_483_647, True), (2_147_483_648, False), (1e300, False), ("2147483647", True),
    ("2147483648", False), ("9" * 400, False), ("12", True)])
def test_a_count_too_large_to_store_is_invalid_not_a_crash(cell: object, valid: bool) -> None:
    # Found by the hostile corpus: 400 nines made float() infinity and int() raise, and a count
    # past a database integer would have failed the recording transaction.
    from validation.columns import FIELDS
    from validation.context import ValidationContext
    from validation.validate import validate_bytes

    row: list[object] = ["Croydon", "03/10/2024", 12] + [None] * (len(FIELDS) - 3)
    row[6] = cell  # column G, police referrals
    report = validate_bytes(_csv([row]), "big.csv", ValidationContext(today=date(2025, 2, 15)))
    invalid = [i.cell for i in report.issues if i.code == "invalid-count"]
    assert invalid == ([] if valid else ["G2"])


@pytest.mark.parametrize(("cell", "valid"), [
    (2_147_483_647, True), (2_147_483_648, False), (1e300, False), (12.0, True)])
def test_a_typed_number_too_large_to_store_is_invalid(cell: float, valid: bool) -> None:
    # The same bound on the vectorised path that typed numbers take (an .xlsx of numbers).
    import io

    from openpyxl import Workbook

    from validation.columns import FIELDS
    from validation.context import ValidationContext
    from validation.validate import validate_bytes

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append([f.uk_header for f in FIELDS])
    sheet.append(["Croydon", "03/10/2024", 12, 3, 9, 5, cell])
    out = io.BytesIO()
    book.save(out)
    report = validate_bytes(out.getvalue(), "big.xlsx",
                            ValidationContext(today=date(2025, 2, 15)))
    invalid = [i.cell for i in report.issues if i.code == "invalid-count"]
    assert invalid == ([] if valid else ["G2"])


@pytest.mark.parametrize(("cell", "valid"), [
    ("0001-01-01", False), ("1899-12-31", False), ("1900-01-01", True), ("9990-12-31", True),
    ("9991-01-01", False), ("03/10/2024", True)])
def test_a_meeting_date_outside_any_financial_year_is_invalid_not_a_crash(
        cell: str, valid: bool) -> None:
    # Found by the hostile corpus: an .ods date of 0001-01-01 made building its financial
    # year raise out of validation ("financial year out of range: 0").
    from validation.cells import Status, to_date

    assert (to_date(cell).status is not Status.INVALID) is valid


@pytest.mark.parametrize("name", ["A" * 1_000_000, "\u202e" * 1_000_000 + "Croydon"],
                         ids=["million-letters", "million-rtl-overrides"])
def test_a_marac_name_is_at_most_two_hundred_plain_characters(name: str) -> None:
    # Found by the hostile corpus: a million-character name (or right-to-left overrides) in A2
    # was accepted and echoed whole in "maracs", megabytes of report from a 5 KB file.
    from validation.cells import to_name
    from validation.safe_text import MAX_DISPLAY_TEXT

    converted = to_name(name)
    assert converted.value is not None and len(converted.value) <= MAX_DISPLAY_TEXT
    assert "\u202e" not in converted.value


def test_a_name_of_only_invisible_characters_is_blank() -> None:
    from validation.cells import Status, to_name

    assert to_name("\u202e\u200f").status is Status.BLANK
    assert to_name("  Croydon  ").value == "Croydon"
