"""A Marac's meetings told as their history (issue 13): each version with its figures and where
they came from, held changes and what became of them, and explanations given. Text for the
command line, email and chat, and the same facts as JSON for ``history --json``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, tzinfo
from typing import Any

from kernel import wording
from kernel.answers import Json
from store.history import HeldRecord, MeetingHistory, VersionRecord
from validation.columns import COUNT_KEYS, FIELD_BY_KEY, Edition

Change = tuple[str, str, int | None, int | None]


def history_text(
    stories: Sequence[MeetingHistory], *, tz: tzinfo, as_of: datetime | None = None,
    as_of_day: date | None = None,
) -> str:
    """Every meeting's story, one block each; with ``as_of``, only what had happened by then."""
    return "\n\n".join(_meeting(s, tz, as_of, as_of_day) for s in stories)


def _meeting(
    story: MeetingHistory, tz: tzinfo, as_of: datetime | None, as_of_day: date | None
) -> str:
    versions = [v for v in story.versions if as_of is None or v.recorded_at <= as_of]
    lines = [
        wording.history_meeting_heading(
            story.marac, story.meeting_date, story.quarter, len(versions), as_of_day
        )
    ]
    previous: VersionRecord | None = None
    until: datetime | None = None
    for v in versions:
        until = v.superseded_at if as_of is None or (
            v.superseded_at is not None and v.superseded_at <= as_of) else None
        lines.append(_version_line(v, tz, until))
        lines.append(_figures_line(previous, v))
        previous = v
    if versions and until is not None:  # the last version was replaced by nothing
        lines.append(wording.history_no_figures())
    for h in story.held:
        if as_of is None or h.created_at <= as_of:
            # As of a day before it was settled, it was still waiting.
            open_then = as_of is not None and (h.resolved_at is None or h.resolved_at > as_of)
            lines.append(
                wording.history_held_line(
                    filename=h.filename, submission_id=h.submission_id, sender=h.sender,
                    created=h.created_at.astimezone(tz),
                    status="pending" if open_then else h.status,
                    resolved=h.resolved_at.astimezone(tz) if h.resolved_at else None,
                    changes=wording.changes_text(changes(_held_against(story, h), h.counts)),
                )
            )
    for e in story.explanations:
        if as_of is None or e.explained_at <= as_of:
            lines.append(wording.history_explanation_line(
                cell=e.cell, column=e.column, text=e.text, by=e.explained_by,
                at=e.explained_at.astimezone(tz)))
    return "\n".join(lines)


def _held_against(story: MeetingHistory, held: HeldRecord) -> dict[str, int | None]:
    """The figures a held change differed from: those current when it arrived."""
    base = story.as_of(held.created_at)
    return base.counts if base is not None else {}


def _version_line(v: VersionRecord, tz: tzinfo, until: datetime | None) -> str:
    return wording.history_version_line(
        version=v.version, kind=v.kind.value, filename=v.filename,
        submission_id=v.submission_id, sheet_row=v.sheet_row, sender=v.sender,
        received=v.received_at.astimezone(tz), recorded_by=v.recorded_by,
        recorded=v.recorded_at.astimezone(tz), withdrawal_of=v.withdrawal_of,
        withdrawn=v.withdrawn_at.astimezone(tz) if v.withdrawn_at else None,
        until=until.astimezone(tz) if until else None,
    )


def _figures_line(previous: VersionRecord | None, v: VersionRecord) -> str:
    if previous is None:
        filled = [c for c in changes({}, v.counts) if c[3] is not None]
        blank = sum(1 for key in COUNT_KEYS if v.counts.get(key) is None)
        return wording.history_figures_line(filled, first=True, blank=blank)
    return wording.history_figures_line(changes(previous.counts, v.counts), first=False, blank=0)


def changes(
    old: dict[str, int | None], new: dict[str, int | None]
) -> list[Change]:
    """(letter, header, old, new) for each count that differs, in template order."""
    found = []
    for key in COUNT_KEYS:
        if old.get(key) != new.get(key) or not old:
            field = FIELD_BY_KEY[key]
            found.append((field.letter, field.header(Edition.UK), old.get(key), new.get(key)))
    return found


def history_json(stories: Sequence[MeetingHistory], *, as_of: datetime | None = None
                 ) -> list[Json]:
    """The same facts as data: times in ISO 8601 UTC, blank figures as null; with ``as_of``,
    only what had happened by then ("current" as it stood then)."""
    return [_story_json(_by(s, as_of) if as_of else s) for s in stories]


def _by(s: MeetingHistory, when: datetime) -> MeetingHistory:
    standing = s.as_of(when)
    versions = tuple(
        replace(v, is_current=v is standing,
                superseded_at=v.superseded_at if v.superseded_at and v.superseded_at <= when
                else None,
                withdrawn_at=v.withdrawn_at if v.withdrawn_at and v.withdrawn_at <= when
                else None)
        for v in s.versions if v.recorded_at <= when
    )
    return replace(
        s, versions=versions,
        held=tuple(
            h if h.resolved_at is not None and h.resolved_at <= when
            else replace(h, status="pending", resolved_at=None)
            for h in s.held if h.created_at <= when
        ),
        explanations=tuple(e for e in s.explanations if e.explained_at <= when),
    )


def _story_json(s: MeetingHistory) -> Json:
    return {
        "marac": s.marac,
        "meeting_date": s.meeting_date.isoformat(),
        "quarter": s.quarter,
        "versions": [_version_json(v) for v in s.versions],
        "held": [
            {"submission_id": h.submission_id, "file": h.filename, "sender": h.sender,
             "sheet_row": h.sheet_row, "created_at": h.created_at.isoformat(),
             "status": h.status,
             "resolved_at": h.resolved_at.isoformat() if h.resolved_at else None,
             "counts": h.counts}
            for h in s.held
        ],
        "explanations": [
            {"id": e.id, "submission_id": e.submission_id, "issue": e.code, "cell": e.cell,
             "text": e.text, "explained_by": e.explained_by,
             "explained_at": e.explained_at.isoformat()}
            for e in s.explanations
        ],
    }


def _version_json(v: VersionRecord) -> dict[str, Any]:
    return {
        "version": v.version, "current": v.is_current, "kind": v.kind.value,
        "submission_id": v.submission_id, "file": v.filename, "sha256": v.sha256,
        "sheet": v.sheet, "sheet_row": v.sheet_row, "sender": v.sender, "channel": v.channel,
        "received_at": v.received_at.isoformat(), "recorded_at": v.recorded_at.isoformat(),
        "recorded_by": v.recorded_by, "confirmed_by": v.confirmed_by,
        "superseded_at": v.superseded_at.isoformat() if v.superseded_at else None,
        "withdrawal_of": v.withdrawal_of,
        "withdrawn_at": v.withdrawn_at.isoformat() if v.withdrawn_at else None,
        "counts": v.counts,
    }
