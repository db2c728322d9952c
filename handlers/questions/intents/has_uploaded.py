"""'has Croydon uploaded Q3?': yes or no, when and by whom, meetings and cases, held changes,
and the due date when nothing has come in."""

from __future__ import annotations

from typing import Any

from handlers.questions import queries
from handlers.questions.context import Ask, Place, place_of, quarter_of, unclear_period
from handlers.questions.intents import missing
from handlers.questions.model import Finding
from handlers.questions.period import quarter_data, state_of

INTENT = "has-uploaded"


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
    return Finding(INTENT, True, _data(ask, place))


def _data(ask: Ask, place: Place) -> dict[str, Any]:
    assert place.marac is not None
    marac = place.marac
    quarter, defaulted = quarter_of(ask)
    uploads = queries.uploads(ask.session, [quarter.label], [marac.id], with_cases=True)
    found = uploads.get((marac.id, quarter.label))
    received = queries.last_received(ask.session, marac.id, quarter.label) if found else None
    held = queries.held_changes(ask.session, marac.id, quarter.label) if found else []
    state = state_of(quarter, found, today=ask.today, due_days=ask.due_days)
    return {
        "marac": marac.name,
        "quarter": quarter.label,
        "period": quarter_data(quarter, today=ask.today, due_days=ask.due_days),
        "quarter_defaulted": defaulted,
        "uploaded": found is not None,
        "state": state.value,
        "meetings": found.meetings if found else 0,
        "cases": found.cases if found else None,
        "cases_blank_meetings": found.cases_blank if found else 0,
        "received": None if received is None else {
            "at": ask.local(received.at),
            "by": received.sender,
            "by_name": received.sender_name,
            "file": received.filename,
            "channel": received.channel,
            "files": received.files,
        },
        "held_changes": [
            {
                "meeting_date": h.meeting_date.isoformat(),
                "sender": h.sender,
                "created_at": ask.local(h.created_at),
                "expires_at": ask.local(h.expires_at),
            }
            for h in held
        ],
    }
