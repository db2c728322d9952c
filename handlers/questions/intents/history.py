"""'history of Croydon 3 Oct 2024', 'where did Croydon's 3 Oct figures come from?', 'what
changed in Croydon's Q3?' (issue 13): every version of the meetings asked about, with where each
came from. A day, else a quarter, else the last quarter that ended."""

from __future__ import annotations

from handlers.history import Period as MeetingPeriod
from handlers.history import day_in, stories
from handlers.questions.context import Ask, Place, place_of, quarter_of, unclear_period
from handlers.questions.model import Finding
from kernel import wording
from reports.history_answers import HistoryAnswer
from reports.history_text import history_json, history_text

INTENT = "history"


def answer(ask: Ask) -> Finding:
    day = day_in(ask.entities.residual, today=ask.today)
    if day is None and (unclear := unclear_period(ask, INTENT)) is not None:
        return unclear
    place = place_of(ask, INTENT, need_marac=True)
    if not isinstance(place, Place):
        return place
    assert place.marac is not None  # need_marac: one Marac or a problem
    period = MeetingPeriod(day=day) if day else MeetingPeriod(quarter=quarter_of(ask)[0])
    found = stories(ask.session, place.marac.id, period)
    text = (history_text(found, tz=ask.settings.tz) if found
            else wording.history_empty(place.marac.name, period.label))
    value = HistoryAnswer(place.marac.name, period.label, text, tuple(history_json(found)))
    return Finding(INTENT, True, value)
