"""'has Croydon uploaded Q3?': yes or no, when and by whom, meetings and cases, held changes,
and the due date when nothing has come in."""

from __future__ import annotations

import re

from handlers.questions import queries
from handlers.questions.context import Ask, Place, place_of, quarter_of, unclear_period
from handlers.questions.intents import missing
from handlers.questions.model import Finding
from handlers.questions.period import quarter_info, state_of
from kernel.answers import HasUploaded, HeldChange, Received

INTENT = "has-uploaded"
# The question is about the deadline ("when is Q3 due?", "what's the deadline for Q3?").
_ASKS_DUE = re.compile(r"\b(?:due|deadlines?)\b")


def answer(ask: Ask) -> Finding:
    """One Marac's quarter ("has my Marac sent Q3?" from someone with several Maracs is
    answered as the list of which have)."""
    if (unclear := unclear_period(ask, INTENT)) is not None:
        return unclear
    e = ask.entities
    if e.mine and not e.maracs and len(ask.scope.own) > 1:
        return missing.uploaded(ask)
    place = place_of(ask, INTENT, need_marac=True)
    if not isinstance(place, Place):
        return place
    assert place.marac is not None
    return Finding(INTENT, True, _value(ask, place))


def _value(ask: Ask, place: Place) -> HasUploaded:
    assert place.marac is not None
    marac = place.marac
    quarter, defaulted = quarter_of(ask)
    uploads = queries.uploads(ask.session, [quarter.label], [marac.id], with_cases=True)
    found = uploads.get((marac.id, quarter.label))
    received = queries.last_received(ask.session, marac.id, quarter.label) if found else None
    held = queries.held_changes(ask.session, marac.id, quarter.label) if found else []
    return HasUploaded(
        marac=marac.name,
        period=quarter_info(quarter, today=ask.today, due_days=ask.due_days),
        quarter_defaulted=defaulted,
        uploaded=found is not None,
        state=state_of(quarter, found, today=ask.today, due_days=ask.due_days),
        meetings=found.meetings if found else 0,
        cases=found.cases if found else None,
        cases_blank_meetings=found.cases_blank if found else 0,
        received=None if received is None else _received(ask, received),
        held_changes=tuple(_held(ask, h) for h in held),
        asked_due=bool(_ASKS_DUE.search(ask.entities.residual)),  # already lower case
    )


def _received(ask: Ask, received: queries.Received) -> Received:
    return Received(ask.local(received.at), received.sender, received.sender_name,
                    received.filename, received.channel, received.files)


def _held(ask: Ask, held: queries.Held) -> HeldChange:
    return HeldChange(held.meeting_date, held.sender, ask.local(held.created_at),
                      ask.local(held.expires_at))
