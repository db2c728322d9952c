"""The form as Slack and Teams are sent it (issue 16): within Slack's Block Kit limits for any
registry, and "record a meeting" answered with the form where a chat can show one.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy.orm import Session

from bot.channels.slack import form_view
from bot.channels.slack.outbound import to_slack_payload
from bot.channels.teams import cards_form
from bot.channels.teams.outbound import to_teams_payload
from bot.dispatch import Dispatcher
from bot.settings import Settings
from handlers.form_entry import MaracChoice
from handlers.result import HandlerResult, Outcome
from kernel import wording
from kernel.entry import FormOffer
from kernel.messages import InboundMessage, ThreadRef
from store.registry import import_csv
from validation.columns import COUNT_KEYS, Edition

NOW = datetime(2025, 1, 10, 10, 0, tzinfo=UTC)
MARACS = """name,aliases,police_force_area,region,nation,local_authorities,adult_female_population
Croydon,,Metropolitan Police,London,England,London Borough of Croydon,160300
"""
CONTACTS = """name,email,role,maracs,slack_user_id,teams_id,channels
Cara Coordinator,cara@example.org,coordinator,Croydon,U001,aad-cara,email;slack;teams
Chris Chair,chris@example.org,chair,Croydon,U002,aad-chris,slack;teams
"""


def _choices(count: int) -> list[MaracChoice]:
    regions = ["London", "South East", "North West"]
    return [
        MaracChoice(f"Marac {i:03d} " + "x" * 90, regions[i % 3], Edition.UK) for i in range(count)
    ]


def test_every_registry_size_fits_slacks_limits() -> None:
    for count in (1, 100, 290):
        view = form_view.form_view(_choices(count), day=date(2024, 10, 3))
        assert len(view["blocks"]) <= 100
        ids = [b["block_id"] for b in view["blocks"] if "block_id" in b]
        assert len(ids) == len(set(ids))
        select = view["blocks"][1]["element"]
        groups = select.get("option_groups") or [{"options": select["options"]}]
        assert sum(len(g["options"]) for g in groups) == count
        assert all(len(g["options"]) <= 100 for g in groups)
        assert all(len(o["text"]["text"]) <= 75 for g in groups for o in g["options"])
        assert ("option_groups" in select) is (count > 100), "grouped by region past 100"
        labels = [b["label"]["text"] for b in view["blocks"] if b["type"] == "input"]
        assert all(len(label) <= 2000 for label in labels)


def test_a_typed_negative_number_goes_back_into_the_box_and_blank_stays_blank() -> None:
    view = form_view.form_view(
        _choices(1), values={"cases": 12, "children": -2, "minoritised": None}
    )
    boxes = {
        b["block_id"]: b["element"].get("initial_value")
        for b in view["blocks"]
        if b.get("block_id") in COUNT_KEYS
    }
    assert (boxes["cases"], boxes["children"], boxes["minoritised"]) == ("12", "-2", None)
    card = cards_form.form_card(FormOffer((("Croydon", "uk"),), values={"ref_housing": 0}))
    inputs = {b["id"]: b for b in card["body"] if b["type"] == "Input.Number"}
    assert inputs["ref_housing"]["value"] == 0 and "value" not in inputs["cases"]


@pytest.fixture
def session(db_session: Session) -> Session:
    for text in (MARACS, CONTACTS):
        assert import_csv(db_session, text).ok
    db_session.commit()
    return db_session


def _asked(
    session: Session, channel: str, sender: str, text: str = "record a meeting"
) -> HandlerResult:
    thread = ThreadRef(channel, "D1", message_id="m1", extra={"sender": sender})
    message = InboundMessage(channel, sender, thread, text=text, received_at=NOW)
    return Dispatcher(Settings()).dispatch(session, message, now=NOW)


def test_record_a_meeting_in_chat_offers_the_form_each_chat_shows_its_way(
    session: Session,
) -> None:
    slack = _asked(session, "slack", "cara@example.org")
    teams = _asked(session, "teams", "cara@example.org", "Record a meeting please")
    assert slack.outcome is teams.outcome is Outcome.FORM_OFFERED
    assert slack.reply is not None and teams.reply is not None
    assert slack.reply.data["form"].choices == (("Croydon", "uk"),)

    blocks = json.loads(to_slack_payload(slack.reply, offer=None))["blocks"]
    assert blocks[-1]["elements"][0]["action_id"] == form_view.OPEN_ACTION
    card = json.loads(to_teams_payload(teams.reply, offer=None, files_emailed=False))["card"]
    assert card["actions"][0]["data"] == {"marac_form": "record"}


def test_a_chair_who_submits_nothing_is_told_and_email_gets_no_form(session: Session) -> None:
    chair = _asked(session, "teams", "chris@example.org")
    assert chair.outcome is Outcome.FORM_NOT_OFFERED
    assert chair.reply is not None and chair.reply.text == wording.FORM_NO_MARACS
    by_email = _asked(session, "email", "cara@example.org")
    assert by_email.outcome is not Outcome.FORM_OFFERED
