"""Messages only a person can deal with ("our coordinator is on leave, so Q3 will be late"):
kept for the data team once, with the outcome; the sender told so, quoting what was passed
on; the reply copied to the data team when MARAC_DATA_TEAM_CONTACT is another address; a
plain question beside it still answered. By email through the stored inbox and the Worker,
on SQLite and PostgreSQL, and by ``marac-bot ask``. (The conversation corpus holds the
phrasings, tests/conversation_corpus.py.)"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli import main
from handlers import for_team
from handlers.for_team import KEPT_CHARS, QUOTED_CHARS, needs_a_person, other_clauses
from handlers.result import HandlerResult, Outcome
from kernel import wording
from kernel.messages import InboundMessage, Reply, ThreadRef
from store.db import Store
from store.models import Contact, TeamMessage
from tests.dispatch_support import (
    COORDINATOR,
    MAILBOX,
    File,
    Mailroom,
    body_of,
    compose,
    registered_mailroom,
)

LATE = "Our coordinator is on leave until January so Q3 will be late."


def _room(store: Store, tmp_path: Path, contact: str | None = None) -> Mailroom:
    room = registered_mailroom(store, tmp_path)
    room.settings = replace(room.settings, data_team_contact_text=contact)
    return room


def _kept(room: Mailroom) -> list[TeamMessage]:
    with room.store.transaction() as session:
        found = list(session.scalars(select(TeamMessage).order_by(TeamMessage.id)))
        session.expunge_all()
        return found


def test_a_message_for_a_person_is_kept_once_and_its_sender_told(db_store: Store,
                                                                 tmp_path: Path) -> None:
    room = _room(db_store, tmp_path)
    raw = compose(subject="Q3 late", body=f"Hi,\n\n{LATE}\n\nThanks\nJo\n")
    handled = room.exchange(raw)
    assert handled.outcome == "for-the-team"
    text = body_of(handled.reply)
    assert text.startswith("Thank you. I have passed this on to the data team")
    assert f"“{LATE}”" in text
    # Not read as a question about returns: no list of Maracs missing Q3.
    assert "has not uploaded" not in text and "Croydon:" not in text
    # The data team's contact is this mailbox (the default): no "reach them at" it, no copy.
    assert MAILBOX not in text and handled.reply["Cc"] is None
    kept = _kept(room)
    assert [(k.inbound_id, k.channel, k.sender, k.subject) for k in kept] == [
        (handled.item_id, "email", COORDINATOR, "Q3 late")]
    assert LATE in kept[0].text and kept[0].sender_name == "Demo Coordinator"
    # The same message delivered again (another copy from the MX): not kept or answered twice.
    again = room.exchange(raw)
    assert again.outcome == "duplicate-message" and again.replies == []
    assert len(_kept(room)) == 1


def test_the_reply_is_copied_to_the_data_team_when_that_is_another_address(
        db_store: Store, tmp_path: Path) -> None:
    room = _room(db_store, tmp_path, contact="data.team@example.org")
    handled = room.exchange(compose(body="Please take me off the reminder emails\n"))
    assert handled.outcome == "for-the-team"
    assert handled.reply["Cc"] == "data.team@example.org"
    assert handled.reply["To"] == COORDINATOR
    # Answers go between them, not back to the bot ("reply all" from the team).
    assert handled.reply["Reply-To"] == f"{COORDINATOR}, data.team@example.org"
    assert "They are copied in on this reply." in body_of(handled.reply)


@pytest.mark.parametrize("contact", ["020 7946 0000", f"  {MAILBOX.upper()} "])
def test_a_contact_that_is_no_other_address_is_named_or_left_out(db_store: Store,
                                                                   tmp_path: Path,
                                                                   contact: str) -> None:
    room = _room(db_store, tmp_path, contact=contact)
    handled = room.exchange(compose(body="I'd like to make a complaint about the reminders\n"))
    text = body_of(handled.reply)
    assert handled.reply["Cc"] is None and "copied in" not in text
    assert handled.reply["Reply-To"] is None  # answers come back to the bot, as usual
    if "@" in contact:  # the mailbox itself, however written: the bot, not the team
        assert "reach them" not in text
    else:
        assert "If it is urgent, you can reach them at 020 7946 0000." in text


def test_a_plain_question_beside_it_is_answered_and_the_rest_passed_on(
        db_store: Store, tmp_path: Path) -> None:
    room = _room(db_store, tmp_path, contact="data.team@example.org")
    handled = room.exchange(compose(
        subject="Q3", body="Hi,\n\nI'm on leave from Friday. Has Croydon uploaded Q3 2024/25?\n"))
    assert handled.outcome == "question-has-uploaded"
    text = body_of(handled.reply)
    assert text.startswith("Croydon has not uploaded Q3 2024/25")
    assert text.endswith("I have also passed this on to the data team, as it needs a person:\n"
                         "“I'm on leave from Friday.”\n")
    html = handled.reply.get_body(("html",))
    assert html is not None and "also passed this on to the data team" in html.get_content()
    assert handled.reply["Cc"] == "data.team@example.org"
    assert handled.reply["Reply-To"] == f"{COORDINATOR}, data.team@example.org"
    assert _kept(room)[0].text.startswith("Hi,")


def test_beside_a_grid_the_passing_on_is_said_under_it_in_the_html(db_store: Store,
                                                                   tmp_path: Path) -> None:
    room = _room(db_store, tmp_path)
    handled = room.exchange(compose(
        subject="grid", body="I'm on leave from Friday. Can you show me the grid for Croydon "
                             "2024/25?\n"))
    assert handled.outcome == "question-grid"
    html = handled.reply.get_body(("html",))
    assert html is not None
    content = html.get_content()
    # The grid's own HTML (its title, its table), the line under it, in one document.
    assert "<h2" in content and "<table" in content
    note = content.index("also passed this on to the data team")
    assert content.index("<table") < note < content.index("</body>")
    assert handled.reply["Cc"] is None


def test_a_document_beside_it_is_named_as_not_read(db_store: Store, tmp_path: Path) -> None:
    room = _room(db_store, tmp_path)
    handled = room.exchange(compose(body="We need an extension for Q3, minutes attached.\n",
                                    files=[File("minutes.pdf", b"%PDF-1.4\n",
                                                "application/pdf")]))
    assert handled.outcome == "for-the-team"
    text = body_of(handled.reply)
    assert "“We need an extension for Q3, minutes attached.”" in text
    assert text.rstrip().endswith(
        "(write \"help\" to see which).\n\nNot read: minutes.pdf (not a spreadsheet).")


def test_a_hand_written_out_of_office_is_still_ignored(db_store: Store, tmp_path: Path) -> None:
    room = _room(db_store, tmp_path)
    handled = room.exchange(compose(
        subject="Leave", body="I am on annual leave until 5 January with no access to email.\n"))
    assert handled.outcome == "ignored-auto-reply" and handled.replies == []
    assert _kept(room) == []


def _message(text: str, *, channel: str = "email", subject: str = "") -> InboundMessage:
    return InboundMessage(channel, "jo@example.org", ThreadRef(channel, "jo@example.org"),
                          subject=subject, text=text)


@pytest.mark.parametrize("text", [
    "who is late with Q4?", "who will be late with Q4?", "which Maracs are running late?",
    "how do I get access to the template?", "can I have access to the Q3 figures?",
    "has Croydon uploaded Q3?", "meetings in Leeds last quarter", "repeat rate for Kent",
    "I left the repeat cases blank, is that ok?", "who has left Q3 blank?",
    "why has the number changed for Croydon 3 Oct?", "what file extension do you take?",
    "is the repeat rate off from last year?", "which Maracs were off target until Q3?",
])
def test_questions_about_returns_are_not_for_a_person(text: str) -> None:
    assert needs_a_person(_message(text)) is None


@pytest.mark.parametrize(("text", "subject", "said"), [
    ("Hello,\n\nThanks for the reminder. I'm on sick leave at the moment.\n", "",
     "I'm on sick leave at the moment."),
    ("Thanks", "RE: Q3 extension please", "Q3 extension please"),  # the subject alone
    ("We are short-staffed. Sorry!", "", "We are short-staffed."),
    ("Hi. Our coordinator has left the Marac.", "", "Our coordinator has left the Marac."),
    ("Just to let you know I'm leaving.", "", "Just to let you know I'm leaving."),
    ("My mobile number has changed", "", "My mobile number has changed"),
    ("I’ve left the Marac", "", "I’ve left the Marac"),  # a typographic apostrophe
])
def test_the_sentence_that_needs_a_person_is_the_one_quoted(text: str, subject: str,
                                                            said: str) -> None:
    assert needs_a_person(_message(text, subject=subject)) == said


# One phrase for each way of needing a person, matching that way alone: each is needed.
@pytest.mark.parametrize("text", [
    "our chair goes on leave tomorrow", "I'm off work till Monday", "sickness absence",
    "I'm off until the new year", "away from Friday", "out of the office next week",
    "on holiday for two weeks", "I'm off from Monday",
    "due to illness", "maternity cover starts soon", "a bereavement in the team",
    "we are short staffed", "the post is vacant", "the return will be delayed",
    "we're running late", "an extension please", "we need more time", "I forgot my password",
    "please give Sam access", "access for Sam please", "can Sam get access?",
    "remove me from the list", "unsubscribe", "I have retired", "our coordinator has left",
    "please update your records", "my new email is jo@example.org", "my email has changed",
    "can I speak to someone", "who should I contact", "please ring me",
    "can you call back", "I want to complain", "data sharing", "the information sharing "
    "agreement", "the dpia", "gdpr question", "a subject access request",
    "an foi", "is there a meeting today",
    "the meeting was postponed",
])
def test_each_way_of_needing_a_person_is_heard(text: str) -> None:
    assert needs_a_person(_message(f"Hello.\n\n{text}.")) == f"{text}."


def test_a_subject_naming_freedom_of_information_is_heard() -> None:
    # In a body, a sentence naming it is taken for a disclaimer and not read at all.
    assert needs_a_person(_message("Hello.", subject="Freedom of Information request")) == (
        "Freedom of Information request")


def test_the_clauses_beside_what_needs_a_person_are_read_for_a_question() -> None:
    assert other_clauses("Our chair is on leave, has Croydon sent Q3?") == [
        "has Croydon sent Q3?"]
    assert other_clauses("We need an extension; and our chair - who is on leave - is back "
                         "soon: thanks") == ["and our chair", "is back soon", "thanks"]
    assert other_clauses("We are on leave; ") == []


def test_what_is_quoted_and_kept_is_capped(db_store: Store, tmp_path: Path) -> None:
    room = _room(db_store, tmp_path)
    exact = "I need an extension " + "x" * (QUOTED_CHARS - 20)
    assert len(exact) == QUOTED_CHARS
    longer = exact + "y"
    handled = room.exchange(compose(body=f"{exact}\n\n{'z' * (2 * KEPT_CHARS)}\n"))
    assert f"“{exact}”" in body_of(handled.reply)
    handled = room.exchange(compose(body=f"{longer}\n"))
    quoted = exact[: QUOTED_CHARS - 1] + "…"
    assert f"“{quoted}”" in body_of(handled.reply) and "y”" not in body_of(handled.reply)
    assert len(_kept(room)[0].text) == KEPT_CHARS


def test_what_is_kept_is_capped_field_by_field(db_store: Store) -> None:
    with db_store.transaction() as session:
        contact = Contact(name="Jo", email="jo@example.org", role="coordinator")
        session.add(contact)
        message = replace(_message("t" * (KEPT_CHARS + 1), subject="s" * (KEPT_CHARS + 1)),
                          sender_name="n" * 201, channel="slack")
        now = datetime(2025, 2, 3, 12, tzinfo=UTC)
        for_team.keep(session, message, contact, now=now, item_id=7)
        for_team.keep(session, replace(message, sender_name=None,
                                       received_at=datetime(2025, 2, 1, tzinfo=UTC)),
                      contact, now=now, item_id=None)
    with db_store.transaction() as session:
        kept = session.scalars(select(TeamMessage).order_by(TeamMessage.id)).all()
        assert [(len(k.text), len(k.subject), len(k.sender_name)) for k in kept] == [
            (KEPT_CHARS, KEPT_CHARS, 200), (KEPT_CHARS, KEPT_CHARS, 2)]
        # When it was received, else now; the sender as the registry has them.
        assert [(k.received_at, k.inbound_id, k.channel, k.sender, k.sender_name[:1])
                for k in kept] == [
            (now, 7, "slack", "jo@example.org", "n"),
            (datetime(2025, 2, 1, tzinfo=UTC), None, "slack", "jo@example.org", "J")]


def test_a_long_sentence_is_cut_between_words_when_quoted() -> None:
    head = "I need an extension " + "x" * (QUOTED_CHARS - 22)
    said = f"{head} {'y' * 10}"
    assert said[QUOTED_CHARS - 2] == " "
    result = for_team.passed_on(_message(said), said, team_contact=MAILBOX, mailbox=MAILBOX)
    assert result.reply is not None and f"“{head}…”" in result.reply.text


def test_chat_replies_copy_no_one() -> None:
    assert for_team.copied_to(_message("x", channel="slack"), team_contact="t@example.org",
                              mailbox=MAILBOX) == ()
    assert for_team.copied_to(_message("x"), team_contact="t@example.org",
                              mailbox=MAILBOX) == ("t@example.org",)
    assert for_team.copied_to(_message("x"), team_contact="t@example.org, u@example.org",
                              mailbox=MAILBOX) == ()
    assert for_team.copied_to(_message("x"), team_contact=" t@example.org\n",
                              mailbox=MAILBOX) == ("t@example.org",)


def test_only_chat_is_emailed_to_the_team_and_only_to_one_other_address() -> None:
    contact = Contact(email="jo@example.org", name="Jo", role="coordinator")
    when = datetime(2025, 2, 3, 9, 30, tzinfo=UTC)

    def emailed(channel: str, team: str, text: str = "I'm off until May.") -> tuple[Reply, ...]:
        return for_team.email_to_team(_message(text, channel=channel), contact,
                                      team_contact=team, mailbox=MAILBOX, received=when)

    for channel in ("email", "cli"):  # email copies the team in; the command line sends nothing
        assert emailed(channel, "t@example.org") == ()
    for team in (MAILBOX.upper(), "t@example.org, u@example.org", "020 7946 0000"):
        assert emailed("slack", team) == ()
    (sent,) = emailed("slack", " t@example.org ")
    assert (sent.thread.channel, sent.thread.address, sent.reply_to) == (
        "email", "t@example.org", ("jo@example.org",))
    assert sent.subject == "For the data team: a message from Jo in Slack"
    assert sent.text.startswith("Jo (jo@example.org) wrote to the Marac data bot in Slack on "
                                "3 Feb 2025 at 09:30.")
    # What is emailed is what is kept: at most KEPT_CHARS of the message.
    (long,) = emailed("teams", "t@example.org", "x" * (KEPT_CHARS + 50))
    assert "x" * (KEPT_CHARS - 1) + "…" in long.text and "x" * KEPT_CHARS not in long.text


def test_what_was_emailed_goes_with_the_reply_and_is_said_in_it() -> None:
    slack = _message("I'm off until May.", channel="slack")
    team = Reply(ThreadRef("email", "t@example.org"), "for the team")
    told = for_team.passed_on(slack, "I'm off until May.", team_contact="t@example.org",
                              mailbox=MAILBOX, emailed=(team,))
    assert told.also == (team,) and told.reply is not None
    assert "I have emailed it to them at t@example.org" in told.reply.text
    assert told.reply.data["emailed_to"] == ["t@example.org"]
    untold = for_team.passed_on(slack, "I'm off until May.", team_contact="t@example.org",
                                mailbox=MAILBOX)
    assert untold.also == () and untold.reply is not None
    assert "emailed" not in untold.reply.text and untold.reply.data["emailed_to"] == []
    # Beside an answer: the team's email joins what the answer already sends, and a chat
    # reply is not copied to anyone (its own Reply-To left as it was).
    earlier = Reply(ThreadRef("email", "x@example.org"), "earlier")
    answer = HandlerResult(Outcome.question("has-uploaded"),
                           Reply(slack.thread, "Lambeth has uploaded Q3.", reply_to=("r@x.org",)),
                           also=(earlier,))
    both = for_team.copied_in(answer, slack, team_contact="t@example.org", mailbox=MAILBOX,
                              emailed=(team,))
    assert both.also == (earlier, team) and both.reply == answer.reply
    assert for_team.copied_in(answer, slack, team_contact="t@example.org",
                              mailbox=MAILBOX) == answer


def test_ask_as_a_contact_keeps_it_and_exits_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'marac.db'}"
    store = Store.open(url)
    registered_mailroom(store, tmp_path)  # the registry
    monkeypatch.setenv("MARAC_DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)
    code = main(["ask", "Could we have an extension for Q3 please?", "--as", COORDINATOR,
                 "--json"])
    out = capsys.readouterr().out
    assert code == 1
    said = "Could we have an extension for Q3 please?"
    assert json.loads(out) == {
        "intent": "for-the-team", "answered": False, "answer": wording.passed_to_team_text(
            said, contact=None, copied=False),
        "data": {}, "attachments": [], "refused_reason": None, "passed_on": said,
        "copied_to": [], "emailed_to": []}
    with store.transaction() as session:
        kept = session.scalars(select(TeamMessage)).all()
        assert [(k.channel, k.sender, k.inbound_id) for k in kept] == [
            ("cli", COORDINATOR, None)]
        assert kept[0].received_at <= datetime.now(UTC)
    store.close()
