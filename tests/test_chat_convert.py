"""Chat converters and renderers, from fixture files.

The converters are pure: they run with no client, no store and no network. The prepare steps
(sender look-up, file download) run with a real store (SQLite and PostgreSQL) and the fake
Slack on loopback; the Teams conversation reference is written in the worker's transaction.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient

from bot import worker as worker_module
from bot.channels.chat.files import ChatFetchError, FileRef
from bot.channels.chat.render import HeldOffer, chat_text, paragraphs
from bot.channels.slack import inbound as slack_inbound
from bot.channels.slack.directory import SlackDirectory
from bot.channels.slack.outbound import to_slack_payload
from bot.channels.slack.prepare import SlackPreparer
from bot.channels.teams import inbound as teams_inbound
from bot.channels.teams.prepare import TeamsPreparer, record_reference
from bot.dispatch import Dispatcher
from bot.settings import ConfigError, Settings
from bot.worker import Worker
from kernel import wording
from kernel.messages import Attachment, ButtonPress, InboundMessage, Reply, ThreadRef
from reports.reply import submission_text
from store.db import Store
from store.queue import InboundItem, OutboundItem, OutboundPayload, enqueue_inbound
from store.registry import find_contact, import_csv, load_demo_registry
from store.types import utcnow
from tests.chat_e2e_support import CHAT_FIXTURES, LAMBETH, LAMBETH_AAD, LAMBETH_SLACK
from tests.slack_fake_support import BOT_TOKEN, FakeSlack
from tests.teams_fake_support import file_attachment

NOW = datetime(2025, 1, 20, 10, 0, tzinfo=UTC)


@pytest.fixture
def registry(db_store: Store) -> Store:
    contacts = ("name,email,role,maracs,slack_user_id,teams_id,channels\n"
                f"Lambeth,{LAMBETH},coordinator,Lambeth,{LAMBETH_SLACK},{LAMBETH_AAD},email\n")
    with db_store.transaction() as session:
        load_demo_registry(session)
        assert import_csv(session, contacts).ok
    return db_store


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection attempt fails the test: a converter must not reach out."""
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"a converter tried to connect: {args[1:]}")
    monkeypatch.setattr(socket.socket, "connect", refuse)


def slack_preparer(store: Store, slack: FakeSlack, *, token: str = BOT_TOKEN) -> SlackPreparer:
    client = WebClient(token=token, base_url=slack.api_url)
    return SlackPreparer(client, SlackDirectory(store, client), token, 10 * 1024 * 1024)


def fixture(name: str) -> bytes:
    return (CHAT_FIXTURES / name).read_bytes()


def teams_message(**changes: Any) -> bytes:
    """The install fixture turned into a message activity of Lambeth's 1:1 chat."""
    activity = json.loads(fixture("teams_conversation_update_install.json"))
    activity.update({"type": "message", "id": "m1", "text": "", **changes})
    return json.dumps(activity).encode()


def lambeths_reference(store: Store) -> dict[str, Any] | None:
    with store.transaction() as session:
        contact = find_contact(session, LAMBETH)
        assert contact is not None
        return contact.teams_reference


# -- the converters: pure functions of the stored input -----------------------------------------

def test_the_slack_converter_needs_no_client_store_or_network(no_network: None) -> None:
    message = slack_inbound.to_inbound(fixture("slack_app_mention_with_file.json"),
                                       received_at=NOW)

    assert message.sender == LAMBETH_SLACK, "the Slack user id: the prepare step resolves it"
    assert message.thread.extra["user"] == message.thread.extra["sender"] == LAMBETH_SLACK
    assert message.text == "here is our Q3 2024/25 return"
    assert message.declared_quarter_text == message.text
    assert message.attachments == (
        FileRef("slack-file-F1", b"", file_id="F1"),  # check_file_info: files.info names it
        Attachment("minutes.pdf", b"", "application/pdf"))  # not a spreadsheet: never fetched
    assert message.thread.address == "CDATATEAM"
    assert message.thread.extra["thread_ts"] == "1737370000.000100"
    assert message.dedupe_key == "CDATATEAM:1737370000.000100"
    assert message.automatic_reason is None


def test_a_named_slack_spreadsheet_becomes_a_reference_to_its_download(no_network: None
                                                                        ) -> None:
    body = json.loads(fixture("slack_app_mention_with_file.json"))
    body["event"]["files"] = [{"id": "F2", "name": "lambeth-q3.xlsx", "mimetype": "x/y",
                               "url_private": "https://files.slack.com/F2"}]
    message = slack_inbound.to_inbound(json.dumps(body).encode(), received_at=NOW)
    assert message.attachments == (FileRef("lambeth-q3.xlsx", b"", "x/y",
                                           url="https://files.slack.com/F2", file_id="F2"),)


def test_a_bots_slack_message_is_converted_with_no_files_and_its_bare_id(no_network: None
                                                                         ) -> None:
    message = slack_inbound.to_inbound(fixture("slack_message_from_a_bot.json"),
                                       received_at=NOW)
    assert message.automatic_reason == "bot-message"
    assert message.attachments == ()


def test_the_teams_converter_needs_no_store_or_network(no_network: None) -> None:
    message = teams_inbound.to_inbound(fixture("teams_conversation_update_install.json"),
                                       received_at=NOW)

    assert message.automatic_reason == "teams-conversation-update"
    assert message.sender == LAMBETH_AAD, "the AAD object id: the prepare step resolves it"
    reference = message.thread.extra["reference"]
    assert reference["conversation"]["id"] == "a:1on1-lambeth"
    assert reference["serviceUrl"] == "https://smba.trafficmanager.net/uk/"


def test_teams_files_become_references_and_only_spreadsheets_are_fetched_later(
    no_network: None
) -> None:
    raw = teams_message(attachments=[
        file_attachment("lambeth-q3.xlsx", "https://teams.example/dl/1"),
        file_attachment("minutes.pdf", "https://teams.example/dl/2")])
    message = teams_inbound.to_inbound(raw, received_at=NOW)
    assert message.attachments == (FileRef("lambeth-q3.xlsx", b"", url="https://teams.example/dl/1"),
                                   Attachment("minutes.pdf", b""))


# -- the prepare steps: the sender and the files -------------------------------------------------


def test_a_mention_with_a_file_in_a_channel_becomes_a_submission_message(
    registry: Store, slack: FakeSlack
) -> None:
    template = fixture("lambeth-q3.xlsx")
    slack.add_file("F1", "lambeth-q3.xlsx", template)
    message = slack_preparer(registry, slack).prepare(slack_inbound.to_inbound(
        fixture("slack_app_mention_with_file.json"), received_at=NOW))

    assert message.sender == LAMBETH
    assert message.text == "here is our Q3 2024/25 return"
    assert message.declared_quarter_text == message.text
    assert [(a.filename, a.data) for a in message.attachments] == [
        ("lambeth-q3.xlsx", template), ("minutes.pdf", b"")]
    assert message.thread.address == "CDATATEAM"
    assert message.thread.extra["thread_ts"] == "1737370000.000100"
    assert message.automatic_reason is None
    assert [m for m, _ in slack.calls] == ["files.info"], "the PDF was never fetched"


def test_a_sign_in_page_instead_of_the_file_is_our_problem_not_the_senders(
    registry: Store, slack: FakeSlack
) -> None:
    slack.add_file("F1", "lambeth-q3.xlsx", fixture("lambeth-q3.xlsx"))
    preparer = slack_preparer(registry, slack)
    preparer.token = "xoxb-revoked"  # the Web API client still works; the download does not
    message = slack_inbound.to_inbound(fixture("slack_app_mention_with_file.json"),
                                       received_at=NOW)
    with pytest.raises(ChatFetchError) as caught:
        preparer.prepare(message)

    assert "web page" in str(caught.value)
    assert caught.value.message.thread.address == "CDATATEAM", "we can still apologise there"
    assert caught.value.message.sender == LAMBETH
    assert slack.downloads == [("TMARAC-F1", False)]


def test_a_users_email_from_slack_is_looked_up_once_and_cached(
    registry: Store, slack: FakeSlack
) -> None:
    slack.add_user("UCHAIR", "Lambeth.Chair@example.org")
    directory = SlackDirectory(registry, WebClient(token=BOT_TOKEN, base_url=slack.api_url))
    senders = {directory.sender_for("UCHAIR") for _ in range(3)}
    assert senders == {"lambeth.chair@example.org"}
    assert len(slack.calls_to("users.info")) == 1
    assert directory.sender_for(LAMBETH_SLACK) == LAMBETH, "by Slack id: no look-up at all"
    assert len(slack.calls_to("users.info")) == 1


def test_another_bots_message_is_never_answered(registry: Store, slack: FakeSlack) -> None:
    message = slack_preparer(registry, slack).prepare(slack_inbound.to_inbound(
        fixture("slack_message_from_a_bot.json"), received_at=NOW))
    assert message.automatic_reason == "bot-message"
    assert slack.calls == [], "no identity look-up for a bot"


def test_a_teams_install_stores_the_conversation_reference_and_asks_nothing(
    registry: Store
) -> None:
    message = TeamsPreparer(registry, 1024).prepare(teams_inbound.to_inbound(
        fixture("teams_conversation_update_install.json"), received_at=NOW))

    assert message.automatic_reason == "teams-conversation-update"
    assert message.sender == LAMBETH
    assert lambeths_reference(registry) is None, "the prepare step writes nothing"
    with registry.transaction() as session:
        record_reference(session, message)
    with registry.transaction() as session:
        contact = find_contact(session, LAMBETH)
        assert contact is not None and contact.teams_reference is not None
        assert contact.teams_reference["conversation"]["id"] == "a:1on1-lambeth"
        assert contact.teams_reference["serviceUrl"] == "https://smba.trafficmanager.net/uk/"


def test_a_teams_user_the_registry_lacks_is_named_by_their_aad_id(registry: Store) -> None:
    activity = json.loads(fixture("teams_conversation_update_install.json"))
    activity.update(type="message", id="m1", text="<at>Marac</at> help &amp; thanks")
    activity["from"]["aadObjectId"] = "aad-unknown"
    message = TeamsPreparer(registry, 1024).prepare(teams_inbound.to_inbound(
        json.dumps(activity).encode(), received_at=NOW))
    assert message.sender == "teams:aad-unknown"
    assert message.text == "help & thanks"


@pytest.mark.parametrize(("channel", "aad_id", "seen_as"), [
    ("webchat", None, "teams:unverified:webchat:aad-lambeth"),  # the client chose from.id
    ("directline", "aad-lambeth", "teams:unverified:directline:aad-lambeth"),
    ("msteams", None, "teams:unverified:msteams:aad-lambeth"),  # Teams named no AAD id
])
def test_only_the_aad_id_teams_vouches_for_names_a_contact(
        registry: Store, channel: str, aad_id: str | None, seen_as: str) -> None:
    """Another channel of the same bot carries a valid token too, but there ``from`` is what
    the client says: Lambeth's AAD id as ``from.id`` (AAD ids are no secret) is nobody."""
    activity = json.loads(fixture("teams_conversation_update_install.json"))
    activity.update(type="message", id="m2", text="has Croydon uploaded Q3?", channelId=channel)
    activity["from"] = {"id": "aad-lambeth", **({"aadObjectId": aad_id} if aad_id else {})}
    activity["value"] = {"marac_action": "confirm", "ids": [7], "submitter": LAMBETH}
    message = TeamsPreparer(registry, 1024).prepare(teams_inbound.to_inbound(
        json.dumps(activity).encode(), received_at=NOW))
    assert message.sender == seen_as != LAMBETH
    assert message.button is not None and message.button.presser == seen_as.removeprefix("teams:")


def test_the_aad_id_of_a_teams_message_names_its_contact(registry: Store) -> None:
    activity = json.loads(fixture("teams_conversation_update_install.json"))
    activity.update(type="message", id="m3", text="help")
    activity["from"] = {"id": "29:someone-else", "aadObjectId": "aad-lambeth"}
    message = TeamsPreparer(registry, 1024).prepare(teams_inbound.to_inbound(
        json.dumps(activity).encode(), received_at=NOW))
    assert message.sender == LAMBETH


def test_chat_wording_replaces_the_emails_instructions() -> None:
    email_text = "\n".join(["Outcome line.", "", wording.confirm_instructions(None), "",
                            wording.annotated_note(["x-checked.xlsx"])])
    offer = HeldOffer(LAMBETH, (7,), None)
    with_buttons = chat_text(email_text, offer)
    without = chat_text(email_text, None)

    assert wording.chat_held_note(None) in with_buttons
    assert wording.CHAT_ANNOTATED_NOTE in with_buttons
    assert wording.ANNOTATED_NOTE_START not in without
    assert "in this chat" in without and "this email" not in without


def test_long_text_is_cut_into_sections_slack_accepts() -> None:
    text = "\n".join(f"line {n} " + "x" * 90 for n in range(100))
    parts = paragraphs(text, limit=3000)
    assert all(len(p) <= 3000 for p in parts)
    assert "\n".join(parts) == text


def test_a_slack_reply_has_escaped_sections_buttons_and_files() -> None:
    thread = ThreadRef("slack", "DLAMBETH", "1.1", extra={"thread_ts": "1.0",
                                                           "sender": LAMBETH})
    reply = Reply(thread, submission_text([], held_until=None) + "\nA < B & C",
                  attachments=(Attachment("x-checked.xlsx", b"PK", "application/x"),))
    payload = json.loads(to_slack_payload(reply, offer=HeldOffer(LAMBETH, (3, 4), None)))

    assert payload["thread_ts"] == "1.0" and payload["channel"] == "DLAMBETH"
    assert any("A &lt; B &amp; C" in b["text"]["text"] for b in payload["blocks"]
               if b["type"] == "section")
    actions = payload["blocks"][-1]
    assert [e["action_id"] for e in actions["elements"]] == ["marac_confirm_held",
                                                            "marac_keep_held"]
    assert json.loads(actions["elements"][0]["value"]) == {"submitter": LAMBETH, "ids": [3, 4]}
    assert payload["files"][0]["filename"] == "x-checked.xlsx"


def test_only_the_submitter_may_keep_or_confirm(registry: Store) -> None:
    def press(sender: str, action: str) -> tuple[str, str | None]:
        button = ButtonPress(action, LAMBETH, (), presser="U1")
        message = InboundMessage("slack", sender, ThreadRef("slack", "DLAMBETH", "1.1"),
                                 button=button)
        with registry.transaction() as session:  # the dispatcher's button step
            result = Dispatcher(Settings()).dispatch(session, message, now=NOW)
        assert result.reply is not None
        return result.outcome, result.reply.private_to

    assert press("croydon.coordinator@example.org", "keep") == ("held-action-refused", "U1")
    assert press(LAMBETH, "keep") == ("kept-nothing-pending", None)


def test_chat_file_names_are_cleaned_by_the_one_shared_cleaner() -> None:
    # Issue 10, finding 4: a CR/LF in a file name broke the reply's attachment header. Slack
    # and Teams names go through the same cleaner as email's, at the channel boundary.
    from bot.channels.slack.inbound import _safe_name
    from validation.safe_text import safe_filename

    raw = "..\\\\evil/Croydon\r\nQ3\u202e.xlsx"
    assert _safe_name(raw) == safe_filename(raw) == "Croydon Q3.xlsx"
    assert _safe_name("\r\n") == "slack-file"


def test_a_teams_file_that_cannot_be_fetched_is_our_problem_not_the_senders(
    registry: Store
) -> None:
    raw = teams_message(attachments=[file_attachment("lambeth-q3.xlsx",
                                                     "http://127.0.0.1:9/gone.xlsx")])
    with pytest.raises(ChatFetchError) as caught:
        TeamsPreparer(registry, 1024).prepare(teams_inbound.to_inbound(raw, received_at=NOW))
    assert caught.value.message.sender == LAMBETH, "we know whom to apologise to"
    assert caught.value.message.attachments == ()


def test_only_a_personal_chats_reference_is_kept(registry: Store) -> None:
    activity = json.loads(teams_message())
    activity["conversation"].update(id="19:team-channel", conversationType="channel")
    message = teams_inbound.to_inbound(json.dumps(activity).encode(), received_at=NOW)
    with registry.transaction() as session:
        record_reference(session, message)
    assert lambeths_reference(registry) is None


# -- the Teams reference commits with the message's outcome, or not at all ----------------------

def deliver_teams(store: Store, raw: bytes) -> int:
    with store.transaction() as session:
        return enqueue_inbound(session, channel="teams", raw=raw, source_key=f"t:{hash(raw)}",
                               recipients=[], received_at=utcnow())


def status_of(store: Store, item_id: int) -> tuple[str, str | None]:
    with store.transaction() as session:
        item = session.get(InboundItem, item_id)
        assert item is not None
        return item.status, item.outcome


def test_a_teams_reference_is_stored_in_the_transaction_of_the_messages_outcome(
    registry: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(data_dir=tmp_path / "data", smtp_listen=None, http_listen=None)
    worker = Worker(registry, settings, retry_first=0.01, retry_max=0.05)
    # The reply is queued with the outcome, in one statement on PostgreSQL (issue 14).
    queue = worker_module.enqueue_outbound

    def outcome_lost(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the outcome could not be written")

    monkeypatch.setattr(worker_module, "enqueue_outbound", outcome_lost)
    failed = deliver_teams(registry, teams_message(id="m1", text="help"))
    assert worker.process_one()
    assert status_of(registry, failed) == ("failed", "failed")  # the incident, on its own
    assert lambeths_reference(registry) is None, "rolled back with the outcome"

    monkeypatch.setattr(worker_module, "enqueue_outbound", queue)
    done = deliver_teams(registry, teams_message(id="m2", text="help"))
    assert worker.process_one()
    assert status_of(registry, done)[0] == "done"
    reference = lambeths_reference(registry)
    assert reference is not None and reference["conversation"]["id"] == "a:1on1-lambeth"


@pytest.mark.parametrize("contact", ["data.team@example.org", "020 7946 0000", None])
def test_a_chat_message_for_the_team_is_emailed_to_them_when_they_have_an_address(
    registry: Store, tmp_path: Path, contact: str | None
) -> None:
    """In email the reply is copied to the team; chat has no copy, so they get an email of
    their own, answered straight to the sender, queued with the reply (issue 14's note)."""
    settings = Settings(data_dir=tmp_path / "data", smtp_listen=None, http_listen=None,
                        mailbox_address="marac@localhost", data_team_contact_text=contact)
    said = "I'm off until the new year. Sam will send our Q3 return."
    item = deliver_teams(registry, teams_message(id="m1", text=said))
    assert Worker(registry, settings).process_one()
    assert status_of(registry, item) == ("done", "for-the-team")
    with registry.transaction() as session:
        queued = {o.key: (o.channel, o.recipient, session.get(OutboundPayload, o.id))
                  for o in session.query(OutboundItem)}
        payloads = {k: p.payload if p else b"" for k, (_, _, p) in queued.items()}
        routes = {k: (channel, recipient) for k, (channel, recipient, _) in queued.items()}
    reply = json.loads(payloads[f"reply:{item}"])
    if contact != "data.team@example.org":  # no address to email: the reply alone
        assert list(routes) == [f"reply:{item}"]
        assert "emailed it to them" not in json.dumps(reply)
        return
    assert routes == {f"reply:{item}": ("teams", routes[f"reply:{item}"][1]),
                      f"reply:{item}:also:0": ("email", "data.team@example.org")}
    assert "I have emailed it to them at data.team@example.org" in json.dumps(reply)
    email = message_from_bytes(payloads[f"reply:{item}:also:0"], policy=default)
    assert email["To"] == "data.team@example.org" and email["Reply-To"] == LAMBETH
    assert email["Subject"] == "For the data team: a message from Lambeth in Teams"
    body = email.get_body(("plain",))
    assert body is not None
    text = " ".join(body.get_content().split())
    assert f"Lambeth ({LAMBETH}) wrote to the Marac data bot in Teams on " in text
    assert said in text and f"Replying to this email reaches {LAMBETH}." in text


@pytest.mark.parametrize(("environ", "refused"), [
    ({"MARAC_TEAMS_APP_ID": "app", "MARAC_TEAMS_APP_PASSWORD": "secret"}, "MARAC_TEAMS_TENANT"),
    ({"MARAC_TEAMS_APP_ID": "app", "MARAC_TEAMS_TENANT": "t"}, "MARAC_TEAMS_APP_PASSWORD"),
    ({"MARAC_TEAMS_APP_ID": "app", "MARAC_TEAMS_APP_PASSWORD": "secret",
      "MARAC_TEAMS_TENANT": "botframework.com"}, None),
    ({"MARAC_TEAMS_ANONYMOUS": "1"}, None),
])
def test_teams_with_an_app_id_needs_its_password_and_tenant_to_start(
        environ: dict[str, str], refused: str | None) -> None:
    """Without a tenant the SDK cannot get the token it replies with: every message was taken
    (202) and none answered. Now the bot does not start, and says which variable is missing."""
    if refused is None:
        assert "teams" in Settings.from_env(environ).sendable_channels
        return
    with pytest.raises(ConfigError) as error:
        Settings.from_env(environ)
    assert str(error.value).startswith(f"{refused} must be set when MARAC_TEAMS_APP_ID is")
