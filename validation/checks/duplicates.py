"""The same Marac and meeting date twice in one file: every occurrence is rejected, since we
cannot know which of them is right."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date

from validation.checks.base import RowView, file_check
from validation.context import ValidationContext
from validation.issues import Issue


@file_check("duplicate-meeting")
def check_duplicate_meetings(rows: list[RowView], context: ValidationContext) -> Iterator[Issue]:
    seen: dict[tuple[str, date], list[RowView]] = defaultdict(list)
    for row in rows:
        name, day = row.parsed.marac_name, row.parsed.meeting_date
        if name and day:
            seen[(_key(name), day)].append(row)
    for (_, day), group in seen.items():
        if len(group) < 2:
            continue
        numbers = ", ".join(str(r.number) for r in group)
        for row in group:
            yield row.issue("duplicate-meeting", "meeting_date", value=day.strftime("%d/%m/%Y"),
                            marac=row.parsed.marac_name, rows=numbers)


def _key(name: str) -> str:
    return " ".join(name.lower().split())
