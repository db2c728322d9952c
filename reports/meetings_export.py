"""The meetings export (issue 13): one row per meeting with its figures as they stand (or stood
at the end of a day) and where they came from, as CSV or xlsx.

pandas does the table work: the counts are nullable ``Int64`` columns, so a blank cell stays
blank in both formats and is never written as 0, and ``to_csv`` / ``to_excel`` (openpyxl)
replace hand-written writers. It is imported only when an export is made: it takes longer to
load than most commands take to run.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import tzinfo
from typing import TYPE_CHECKING

from store.history import StandingRow
from validation.columns import COUNT_KEYS, FIELD_BY_KEY, Edition

if TYPE_CHECKING:
    import pandas as pd

SUFFIXES = (".csv", ".xlsx")
SHEET = "Meetings"

# The identity and provenance columns around the template's 30 counts.
LEADING = ("Marac", "Region", "Police force area", "Meeting date", "Quarter")
PROVENANCE = (
    "Version", "Submission", "File", "Sheet row", "Sender", "Received", "Recorded",
    "Confirmed by",
)


def headings() -> tuple[str, ...]:
    """Every column, in order: the counts under the template's own (UK) headers."""
    counts = tuple(FIELD_BY_KEY[key].header(Edition.UK) for key in COUNT_KEYS)
    return (*LEADING, *counts, *PROVENANCE)


def frame(
    rows: Sequence[StandingRow], places: dict[int, tuple[str, str]], *, tz: tzinfo
) -> pd.DataFrame:
    """The export as a table; ``places`` gives each Marac id its (region, police force area)."""
    import pandas as pd

    data: dict[str, list[object]] = {h: [] for h in headings()}
    count_headings = headings()[len(LEADING) : len(LEADING) + len(COUNT_KEYS)]
    for r in rows:
        region, force = places.get(r.marac_id, ("", ""))
        for heading, value in zip(
            LEADING, (r.marac, region, force, r.meeting_date, r.quarter), strict=True
        ):
            data[heading].append(value)
        for heading, key in zip(count_headings, COUNT_KEYS, strict=True):
            data[heading].append(r.counts.get(key))
        provenance = (
            r.version, r.submission_id, r.filename, r.sheet_row, r.sender,
            _local(r.received_at, tz), _local(r.recorded_at, tz), r.confirmed_by or "",
        )
        for heading, value in zip(PROVENANCE, provenance, strict=True):
            data[heading].append(value)
    table = pd.DataFrame(data, columns=list(headings()))
    nullable = [*count_headings, "Version", "Submission", "Sheet row"]
    return table.astype({h: "Int64" for h in nullable})


def _local(moment: object, tz: tzinfo) -> str:
    """ "2024-11-05 09:00" where the bot runs: a spreadsheet cannot hold a time zone."""
    from datetime import datetime

    assert isinstance(moment, datetime)
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def to_csv(table: pd.DataFrame) -> str:
    """CSV with a blank field for a blank cell."""
    text: str = table.to_csv(index=False, date_format="%Y-%m-%d", lineterminator="\r\n")
    return text


def to_xlsx(table: pd.DataFrame) -> bytes:
    """A workbook whose blank cells are empty, not 0, with the header row frozen."""
    import pandas as pd

    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        table.to_excel(writer, sheet_name=SHEET, index=False, freeze_panes=(1, 0))
        sheet = writer.sheets[SHEET]
        for cell in sheet["D"][1:]:  # the meeting date: a date, shown as one
            cell.number_format = "yyyy-mm-dd"
    return buffer.getvalue()
