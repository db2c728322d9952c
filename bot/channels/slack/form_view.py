"""The "Record a meeting" modal as Block Kit, and what a submitted one holds (issue 16).

Pure functions: a view from the choices and values, a ``MeetingEntry`` from a view's state,
Slack's ``errors`` map from field errors. One number box per count, labelled with the
template's header in the Marac's edition and grouped as the template groups them. A box left
blank stays blank (not collected); 0 is 0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from handlers.form_entry import MaracChoice
from kernel import wording
from kernel.entry import EntryKind, MeetingEntry
from kernel.messages import InboundMessage, ThreadRef
from validation.columns import FIELD_BY_KEY, FIELD_KEYS, Edition

CALLBACK_ID = "marac_record"
MARAC_BLOCK, DATE_BLOCK = "marac", "meeting_date"
MARAC_ACTION, DATE_ACTION, VALUE_ACTION = "marac_form_marac", "marac_form_date", "value"
OPEN_ACTION = "marac_open_form"  # the "Record a meeting" button (App Home, reminders)
# The template's groups (spec §3): the meeting C–F, referrals by agency G–T, the people U–AF.
GROUPS = (
    ("meeting", FIELD_KEYS[2:6]),
    ("referrals", FIELD_KEYS[6:20]),
    ("people", FIELD_KEYS[20:]),
)
# Slack's limits: 100 options in a select (admins choose from every Marac: grouped by region,
# 100 to a group).
OPTIONS_LIMIT = 100


def form_view(
    choices: Sequence[MaracChoice],
    *,
    marac: str | None = None,
    day: date | None = None,
    values: Mapping[str, int | None] | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """The modal for one meeting; ``values`` fill the boxes in (a recorded meeting)."""
    chosen = next((c for c in choices if c.name == marac), None)
    if chosen is None and len(choices) == 1:
        chosen = choices[0]
    edition = chosen.edition if chosen else Edition.UK
    blocks: list[dict[str, Any]] = [
        _context(wording.FORM_HINT),
        _marac_select(choices, chosen),
        _date_picker(day),
    ]
    if note:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": note}})
    for group, keys in GROUPS:
        blocks.append({"type": "header", "text": _plain(wording.FORM_GROUPS[group])})
        blocks += [_count_input(key, edition, (values or {}).get(key)) for key in keys]
    return {
        "type": "modal",
        "callback_id": CALLBACK_ID,
        "title": _plain(wording.FORM_TITLE),
        "submit": _plain(wording.FORM_SUBMIT),
        "close": _plain(wording.FORM_CANCEL),
        "blocks": blocks,
    }


def message_view(text: str) -> dict[str, Any]:
    """A modal that only says something (someone with no Marac to record for)."""
    return {
        "type": "modal",
        "title": _plain(wording.FORM_TITLE),
        "close": _plain("Close"),
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
    }


def open_button() -> dict[str, Any]:
    """The "Record a meeting" button, for App Home and reminder messages."""
    return {
        "type": "actions",
        "block_id": "marac_open",
        "elements": [
            {
                "type": "button",
                "action_id": OPEN_ACTION,
                "value": "record",
                "text": _plain(wording.FORM_OPEN_BUTTON),
                "style": "primary",
            }
        ],
    }


def to_entry(view: Mapping[str, Any]) -> MeetingEntry:
    """The meeting a submitted (or changed) view holds; blank boxes are ``None``."""
    state = _values(view)
    marac = (_action(state, MARAC_BLOCK).get("selected_option") or {}).get("value") or ""
    day = _action(state, DATE_BLOCK).get("selected_date")
    counts = {key: _text(_action(state, key).get("value")) for _, keys in GROUPS for key in keys}
    return MeetingEntry(str(marac), day if isinstance(day, str) else None, counts, EntryKind.FORM)


def to_inbound(body: Mapping[str, Any], *, received_at: datetime) -> InboundMessage:
    """A stored ``view_submission`` → the message the worker dispatches: the entry, from the
    Slack user (prepare.py finds the contact), answered in their DM with the app."""
    user = body.get("user")
    user_id = str(user.get("id") if isinstance(user, dict) else user or "")
    view = body.get("view")
    if not user_id or not isinstance(view, dict):
        raise ValueError("Slack view submission without its user or view")
    key = f"view:{view.get('id')}:{view.get('hash')}"
    thread = ThreadRef(
        channel="slack",
        address=user_id,
        extra={"user": user_id, "sender": user_id, "dedupe_key": key},
    )
    return InboundMessage(
        channel="slack",
        sender=user_id,
        thread=thread,
        received_at=received_at,
        dedupe_key=key,
        entry=to_entry(view),
    )


def errors_for(view: Mapping[str, Any], errors: Mapping[str, str]) -> dict[str, str]:
    """Slack's ``response_action: errors`` map: block id → message, for blocks in the view."""
    present = {b.get("block_id") for b in view.get("blocks") or [] if isinstance(b, dict)}
    return {key: text for key, text in errors.items() if key in present}


def _marac_select(choices: Sequence[MaracChoice], chosen: MaracChoice | None) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "static_select",
        "action_id": MARAC_ACTION,
        "placeholder": _plain(wording.FORM_MARAC_PLACEHOLDER),
    }
    if len(choices) <= OPTIONS_LIMIT:
        element["options"] = [_option(c.name) for c in choices]
    else:
        regions: dict[str, list[dict[str, Any]]] = {}
        for c in choices:
            regions.setdefault(c.region, []).append(_option(c.name))
        element["option_groups"] = [
            {"label": _plain(region[:75]), "options": options}
            for region, options in regions.items()
        ]
    if chosen is not None:
        element["initial_option"] = _option(chosen.name)
    return {
        "type": "input",
        "block_id": MARAC_BLOCK,
        "dispatch_action": True,
        "label": _plain(wording.FORM_MARAC_LABEL),
        "element": element,
    }


def _date_picker(day: date | None) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "datepicker", "action_id": DATE_ACTION}
    if day is not None:
        element["initial_date"] = day.isoformat()
    return {
        "type": "input",
        "block_id": DATE_BLOCK,
        "dispatch_action": True,
        "label": _plain(wording.FORM_DATE_LABEL),
        "element": element,
    }


def _count_input(key: str, edition: Edition, value: int | None) -> dict[str, Any]:
    # No min_value: a negative number reaches our check and is answered beside the box, in
    # the same words a file's cell would get.
    element: dict[str, Any] = {
        "type": "number_input",
        "action_id": VALUE_ACTION,
        "is_decimal_allowed": False,
    }
    if value is not None:
        element["initial_value"] = str(value)
    return {
        "type": "input",
        "block_id": key,
        "optional": key != "cases",
        "label": _plain(FIELD_BY_KEY[key].header(edition)),
        "element": element,
    }


def _option(name: str) -> dict[str, Any]:
    return {"text": _plain(name[:75]), "value": name[:150]}


def _plain(text: str) -> dict[str, str]:
    return {"type": "plain_text", "text": text}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _values(view: Mapping[str, Any]) -> Mapping[str, Any]:
    state = view.get("state")
    values = state.get("values") if isinstance(state, dict) else None
    return values if isinstance(values, dict) else {}


def _action(state: Mapping[str, Any], block: str) -> dict[str, Any]:
    """The one element's state in a block (whatever its action id)."""
    actions = state.get(block)
    if not isinstance(actions, dict):
        return {}
    first: Any = next(iter(actions.values()), {})
    return first if isinstance(first, dict) else {}


def _text(value: Any) -> str | None:
    """A box's text; blank (or only spaces) is ``None``: not collected."""
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip()


def with_open_button(text: str) -> list[dict[str, Any]]:
    """A message's text as sections (mrkdwn escaped) with the "Record a meeting" button."""
    safe = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    sections = [
        {"type": "section", "text": {"type": "mrkdwn", "text": part[:3000]}}
        for part in safe.split("\n\n")
        if part.strip()
    ][:48]
    return [*sections, open_button()]


def home_view() -> dict[str, Any]:
    """The bot's App Home: what it does, and the "Record a meeting" button."""
    return {
        "type": "home",
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": wording.APP_HOME_TEXT}},
            open_button(),
        ],
    }
