"""'who hasn't uploaded Q2 2024/25?', 'missing Q2 in London': the Maracs with nothing for the
quarter, their coordinators, whether they are overdue, and whether they also missed the
quarter before (two in a row drops a Marac from the national figures, spec §5). A quarter
before ``MARAC_TRACK_FROM`` was collected before the bot existed: not having it proves nothing,
so it never counts as the first of two."""

from __future__ import annotations

from typing import Literal

from handlers.questions import queries
from handlers.questions.context import Ask, Place, place_of, quarter_of, unclear_period
from handlers.questions.model import Finding
from handlers.questions.period import quarter_info
from kernel.answers import Coordinator, Missing, MissingMarac

INTENT = "missing"
Focus = Literal["missing", "uploaded", "in-a-row"]


def answer(ask: Ask) -> Finding:
    return _answer(ask, focus="missing")


def uploaded(ask: Ask) -> Finding:
    """'who has uploaded Q3?', 'has London sent Q3?': the same list, led by those that have."""
    return _answer(ask, focus="uploaded")


def in_a_row(ask: Ask) -> Finding:
    """'who has missed two quarters in a row?': the Maracs missing the quarter and the one
    before it (spec §5: they drop out of the national figures)."""
    return _answer(ask, focus="in-a-row")


def _answer(ask: Ask, *, focus: Focus) -> Finding:
    if (unclear := unclear_period(ask, INTENT)) is not None:
        return unclear
    place = place_of(ask, INTENT, need_marac=False)
    if not isinstance(place, Place):
        return place
    return Finding(INTENT, True, _value(ask, place, focus))


def _value(ask: Ask, place: Place, focus: Focus) -> Missing:
    quarter, defaulted = quarter_of(ask)
    ids = None if ask.scope.everything and place.area is None else place.marac_ids
    # The quarter and the one before in one query.
    found = queries.uploads(ask.session, [quarter.label, quarter.previous().label], ids)
    have = {marac_id for marac_id, label in found if label == quarter.label}
    had_before = {marac_id for marac_id, label in found if label != quarter.label}
    previous_tracked = ask.settings.tracks(quarter.previous())
    absent = [m for m in place.maracs if m.id not in have]
    if focus == "in-a-row":
        absent = [m for m in absent if previous_tracked and m.id not in had_before]
    contacts = queries.coordinators(ask.session, [m.id for m in absent])
    period = quarter_info(quarter, today=ask.today, due_days=ask.due_days)
    return Missing(
        period=period,
        quarter_defaulted=defaulted,
        previous_quarter=quarter.previous().label,
        place=place.info(),
        scope=ask.scope.info(),
        focus=focus,
        uploaded=tuple(m.name for m in place.maracs if m.id in have),
        details=tuple(
            MissingMarac(
                marac=m.name,
                region=m.region,
                police_force_area=m.police_force_area,
                coordinators=tuple(Coordinator(n, a) for n, a in contacts.get(m.id, [])),
                overdue=period.overdue,
                missed_previous=previous_tracked and m.id not in had_before,
            )
            for m in absent
        ),
    )
