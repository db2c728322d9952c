"""The "Record a meeting" form in Teams: an Adaptive Card, and what its submit holds (issue 16).

Pure functions. The card has the Marac (a choice of the person's own), the date, and one
number box per count labelled with the template's header in the Marac's edition, grouped as
the template groups them. Its two ``Action.Submit`` buttons post a message whose ``value``
holds the inputs and our ``marac_form`` marker: "record" checks and records the meeting,
"refresh" sends the card back with a recorded meeting's figures filled in (an amendment).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kernel import wording
from kernel.entry import EntryKind, FormOffer, FormRequest, MeetingEntry
from validation.columns import FIELD_BY_KEY, FIELD_KEYS, Edition

MARKER = "marac_form"
RECORD, REFRESH = "record", "refresh"
GROUPS = (
    ("meeting", FIELD_KEYS[2:6]),
    ("referrals", FIELD_KEYS[6:20]),
    ("people", FIELD_KEYS[20:]),
)


def form_card(offer: FormOffer) -> dict[str, Any]:
    """The card for one meeting (the content of an Adaptive Card attachment)."""
    chosen = offer.chosen()
    edition = Edition(chosen[1]) if chosen else Edition.UK
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": wording.FORM_TITLE, "weight": "Bolder", "size": "Medium"},
        {"type": "TextBlock", "text": wording.FORM_HINT, "wrap": True, "isSubtle": True},
        {
            "type": "Input.ChoiceSet",
            "id": "marac",
            "label": wording.FORM_MARAC_LABEL,
            "isRequired": True,
            "placeholder": wording.FORM_MARAC_PLACEHOLDER,
            "choices": [{"title": name, "value": name} for name, _ in offer.choices],
            **({"value": chosen[0]} if chosen else {}),
        },
        {
            "type": "Input.Date",
            "id": "meeting_date",
            "label": wording.FORM_DATE_LABEL,
            "isRequired": True,
            **({"value": offer.day.isoformat()} if offer.day else {}),
        },
    ]
    if offer.note:
        body.append({"type": "TextBlock", "text": offer.note, "wrap": True})
    for group, keys in GROUPS:
        body.append(
            {
                "type": "TextBlock",
                "text": wording.FORM_GROUPS[group],
                "weight": "Bolder",
                "separator": True,
            }
        )
        body += [_number(key, edition, offer.values.get(key)) for key in keys]
    return {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.4",
        "body": body,
        "actions": [
            {"type": "Action.Submit", "title": wording.FORM_SUBMIT, "data": {MARKER: RECORD}},
            {
                "type": "Action.Submit",
                "title": wording.TEAMS_FORM_REFRESH,
                "data": {MARKER: REFRESH},
                "associatedInputs": "auto",
            },
        ],
    }


def form_action(value: Any) -> str | None:
    """ "record" or "refresh" for a submit of our card, else None."""
    if isinstance(value, dict) and value.get(MARKER) in (RECORD, REFRESH):
        return str(value[MARKER])
    return None


def to_entry(value: Mapping[str, Any]) -> MeetingEntry:
    """The meeting a submitted card holds (Teams sends every input as text; blank is "")."""
    counts = {key: _text(value.get(key)) for _, keys in GROUPS for key in keys}
    day = _text(value.get("meeting_date"))
    return MeetingEntry(_text(value.get("marac")) or "", day, counts, EntryKind.FORM)


def _number(key: str, edition: Edition, value: int | None) -> dict[str, Any]:
    box: dict[str, Any] = {
        "type": "Input.Number",
        "id": key,
        "label": FIELD_BY_KEY[key].header(edition),
        "isRequired": key == "cases",
    }
    if value is not None:
        box["value"] = value
    return box


def _text(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        value = str(int(value)) if float(value).is_integer() else str(value)
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip()


def form_input(value: Any) -> tuple[MeetingEntry | None, FormRequest | None]:
    """What a submit of our card asks: a meeting to record, or the card again filled in for
    the Marac and date chosen; (None, None) for anything else."""
    action = form_action(value)
    if action is None:
        return None, None
    entry = to_entry(value)
    if action == RECORD:
        return entry, None
    return None, FormRequest(entry.marac or None, entry.day)
