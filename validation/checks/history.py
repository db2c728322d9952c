"""Meetings already accepted: identical figures are ``unchanged``; different figures are
``changed-from-previous`` and held until the submitter confirms (spec §4)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from kernel import wording
from validation.checks.base import RowView, row_check
from validation.columns import COUNT_KEYS, FIELD_BY_KEY
from validation.context import ValidationContext
from validation.issues import Issue


@row_check("changed-from-previous", "unchanged", needs=("stored",))
def check_against_stored(row: RowView, context: ValidationContext) -> Iterator[Issue]:
    stored, name, day = context.stored, row.parsed.marac, row.parsed.meeting_date
    if stored is None or name is None or day is None:
        return
    previous = stored.current(name, day)
    if previous is None:
        return
    changes = changed_fields(previous, row.parsed.counts)
    shown_date = wording.day_text(day)
    if not changes:
        yield row.issue("unchanged", "marac", value=name, marac=name, meeting_date=shown_date)
        return
    first_key = changes[0][0]
    yield row.issue(
        "changed-from-previous",
        first_key,
        value=row.parsed.counts.get(first_key),
        marac=name,
        meeting_date=shown_date,
        changes=wording.changes_text(
            [(FIELD_BY_KEY[k].letter, row.header(k), old, new) for k, old, new in changes]
        ),
        fields=[k for k, _, _ in changes],
    )


def changed_fields(
    old: Mapping[str, int | None], new: Mapping[str, int | None]
) -> list[tuple[str, int | None, int | None]]:
    """(key, old, new) for every count that differs; blank and 0 are different values."""
    return [(k, old.get(k), new.get(k)) for k in COUNT_KEYS if old.get(k) != new.get(k)]
