"""Helpers for the workbook-writing tests: LibreOffice conversions and a filled template."""

from __future__ import annotations

import io
import subprocess
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from openpyxl import load_workbook

from reports.template_file import write_template
from validation.columns import Edition
from validation.issues import Issue

FILLED_DATES = (date(2024, 10, 3), date(2024, 10, 17), date(2024, 10, 31), date(2024, 11, 14))


def soffice_convert(sources: Sequence[Path], fmt: str, outdir: Path, workdir: Path) -> list[Path]:
    """Convert files with LibreOffice; returns the paths it should have written.

    soffice exits 0 even when a conversion fails, so callers must check the outputs exist. A
    private profile keeps parallel runs (and a desktop session) from locking each other out.
    """
    profile = workdir / "lo-profile"
    outdir.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--convert-to",
            fmt,
            "--outdir",
            str(outdir),
            *(str(s) for s in sources),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    extension = fmt.split(":", 1)[0]
    return [outdir / f"{s.stem}.{extension}" for s in sources]


def consistent_counts(index: int) -> list[int]:
    """C–AF for one meeting, consistent with every row rule of spec §4.

    C = 10 + index; D about a third of C; E >= F > 0; G–T add up to C with the police share
    under 75%; U–AF each at most C; AB+AC+AD+AF <= U; AB..AF at most C in total.
    """
    cases = 10 + index
    referrals = [cases - 5, 1, 1, 1, 1, 1] + [0] * 8  # G..T, 14 sources
    people = [3, 0, 1, 1, 0, 0, 1]  # U..AA
    ethnic = [1, 1, 0, 1, 0]  # AB..AF
    return [cases, cases // 3, 6, 4, *referrals, *people, *ethnic]


def filled_template(edition: Edition = Edition.UK, *, marac: str = "Croydon") -> bytes:
    """The blank template with rows 2..5 filled in by openpyxl, as a coordinator would."""
    book = load_workbook(io.BytesIO(write_template(edition)))
    sheet = book.worksheets[0]
    for index, day in enumerate(FILLED_DATES, start=1):
        row = index + 1
        sheet.cell(row=row, column=1, value=marac)
        sheet.cell(row=row, column=2, value=day)
        for offset, value in enumerate(consistent_counts(index)):
            sheet.cell(row=row, column=3 + offset, value=value)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def sample_issues(sheet: str | None = "Marac data") -> list[Issue]:
    """Hard, soft and info issues, two of them on D7, one with no cell at all (the annotated
    copy's tests, both ways it is made)."""
    return [
        Issue.make("ignored-column", sheet=sheet, columns="Notes"),
        Issue.make(
            "children-inconsistent", sheet=sheet, cell="F5", row=5, value=0, detail="E5 is 0."
        ),
        Issue.make(
            "exceeds-cases",
            sheet=sheet,
            cell="D7",
            row=7,
            column="Number of repeat cases",
            value=40,
            cases=14,
            cases_cell="C7",
        ),
        Issue.make("normalised-value", sheet=sheet, cell="D7", row=7, value="40", normalised=40),
        Issue.make("invalid-count", sheet=sheet, cell="E3", row=3, column="Children", value="=1+1"),
    ]
