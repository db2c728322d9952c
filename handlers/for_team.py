"""Messages that need a person: staff away, a return that will be late, a request for an
extension, access, a change of contact, a complaint. The bot cannot deal with them, and the
question engine, which reads every message as a question about returns, answered them
wrongly ("our coordinator is on leave, so Q3 will be late" got the list of Maracs missing
Q3). Such a message is kept for the data team (``store.models.TeamMessage``, listed on the
operator page) and its sender told so; a data question asked beside it is still answered.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy.orm import Session

from handlers.ask import body_sentences
from handlers.confirmation import strip_reply_prefix
from handlers.result import HandlerResult, Outcome
from kernel import wording
from kernel.messages import Channel, InboundMessage, Reply, ThreadRef
from store.models import Contact, TeamMessage

# Who leaves a post: themselves, or a named role ("our coordinator has left").
_PERSON = (r"(?:i|i've|i have|i'm|i am|she|he|they|she's|he's|they've|they have|she has"
           r"|he has|(?:coordinator|chair|colleague|administrator|admin|manager|idva)"
           r"(?: has| is|'s)?)")

# What only a person can deal with, said in words people use. Each is a statement or a
# request to the team, never a question about returns: "who is late with Q3?" asks about
# returns and is not here ("will be late" is).
_NEEDS_A_PERSON = re.compile(
    "|".join((
        # Away or short of staff.
        r"\b(?:on|going on|off on|starts?|starting) (?:annual |maternity |paternity |sick "
        r"|long[- ]term sick |study |parental |compassionate )?leave\b",
        r"\b(?:off|signed off) (?:sick|ill|work)\b", r"\bsick(?:ness)?\b", r"\billness\b",
        # Away for a while: "I'm off until the new year", "away from Friday", "out of the
        # office next week"; not "off target", nor "is the rate off from last year?".
        r"\b(?:off|away|on holiday|out of (?:the )?office) (?:until|till|til|next week"
        r"|this week|for (?:a|one|two|three|four|\d+|a few|a couple of) (?:days?|weeks?"
        r"|months?))\b",
        r"\b(?:away|on holiday|out of (?:the )?office) from\b",
        r"\boff from (?:tomorrow|next|(?:mon|tues|wednes|thurs|fri|satur|sun)day)\b",
        r"\bmaternity\b", r"\bbereavement\b", r"\bshort[- ]staffed\b", r"\bvacan(?:t|cy)\b",
        # A return that will be late, or more time asked for.
        # Said of themselves: "who will be late with Q4?" asks about returns.
        r"^(?!.*\bwho\b).*\b(?:will|'ll|going to|might|may|could|would) be (?:a (?:bit|little"
        r"|few days|week) |slightly |very )?(?:late|delayed)\b",
        r"\b(?:i'm|i am|we're|we are|i've been|we've been) running (?:a bit |a little )?late\b",
        r"(?<!file )\bextensions?\b",
        r"\b(?:more|extra) time\b",
        # Access, accounts and contacts kept by the data team.
        r"\b(?:log ?in|login|password|locked out|permissions?)\b",
        # Access to the dashboard or the like, not to data ("access to the Q3 figures").
        r"\b(?:give|grant) (?:\w+ )?access\b", r"\baccess for\b",
        r"\b(?:get|have|need|request(?:ing)?) access\b(?! to (?:\S+ ){0,3}(?:template"
        r"|data|figures|returns?|spreadsheet|numbers))",
        r"\b(?:remove|take) (?:me|us|him|her|them) (?:off|from)\b",
        r"\bunsubscribe\b",
        # Leaving a post, not leaving a cell blank ("I left D4 blank").
        rf"\b{_PERSON} (?:now )?(?:moved on|moving on|retired|retiring|stepped down"
        r"|stepping down)\b",
        rf"\b{_PERSON} (?:now )?(?:left|leaving)(?: (?:the|my|our|her|his|their) (?:marac"
        r"|role|post|job|team|organisation|council|service|position|authority)\b|\W*$)",
        r"\bupdate (?:your|the|our) (?:records?|contacts?|details|list|mailing list"
        r"|distribution list)\b",
        # A contact's details, not a figure ("why has the number changed?").
        r"\b(?:new|change of|changed) (?:e-?mail|(?:e-?mail |postal )?address|phone|mobile"
        r"|contact number)\b",
        r"\b(?:e-?mail(?: address)?|(?:phone|mobile|contact) number) (?:has |have )?changed\b",
        # Wanting a person, or what only a person can agree.
        r"\b(?:speak|talk) (?:to|with) (?:someone|somebody|a (?:real )?person|a human"
        r"|a member)\b",
        r"\bwho (?:should|do|can|could) (?:i|we) (?:contact|speak to|talk to|email|write to)\b",
        r"\b(?:call|ring|phone) (?:me|us)\b", r"\bcall (?:me |us )?back\b",
        r"\bcomplain(?:t|ts|ing)?\b", r"\bdata sharing\b", r"\bsharing agreement\b",
        r"\bdpia\b", r"\bgdpr\b", r"\bsubject access\b",
        # In a subject: a body's sentence naming it is a disclaimer, and is not read.
        r"\bfreedom of information\b",
        r"\bfoi\b",
        # The meetings themselves, which the bot knows nothing of until they are returned.
        r"\b(?:is|are) there (?:a|any) (?:marac )?meetings?\b",
        r"\bmeetings? (?:was|were|has been|have been|got|is|are) (?:\w+ )?(?:cancelled"
        r"|canceled|postponed|moved|rescheduled)\b",
    ))
)

# What is kept and echoed: a message is read for this much, and quoted back shorter.
KEPT_CHARS = 4000
QUOTED_CHARS = 300
_ADDRESS = re.compile(r"[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+")


def needs_a_person(message: InboundMessage) -> str | None:
    """The first of the message's opening sentences, or its subject, that needs a person;
    None when none does. A file sent with it is read as a return first, so this is asked of
    messages without one."""
    subject = strip_reply_prefix(message.subject).strip()
    for sentence in (*body_sentences(message.text), subject):
        if _NEEDS_A_PERSON.search(_plain(sentence)):
            return sentence
    return None


_CLAUSE_END = re.compile(r"[,;:]\s+|\s+-\s+")


def other_clauses(said: str) -> list[str]:
    """The clauses of ``said`` that do not themselves need a person: "Our coordinator is on
    leave, has Croydon sent Q3?" also asks a question about returns."""
    return [c for c in _CLAUSE_END.split(said)
            if c.strip() and not _NEEDS_A_PERSON.search(_plain(c))]


def _plain(text: str) -> str:
    return " ".join(text.lower().replace("’", "'").split())


def keep(session: Session, message: InboundMessage, contact: Contact, *, now: datetime,
         item_id: int | None) -> None:
    """The message kept for the data team, in the caller's transaction (so it is kept once
    with its outcome: a crash before the commit keeps neither)."""
    session.add(TeamMessage(
        inbound_id=item_id, received_at=message.received_at or now, channel=message.channel,
        sender=contact.email, sender_name=(message.sender_name or contact.name)[:200],
        subject=message.subject[:KEPT_CHARS], text=message.text[:KEPT_CHARS],
    ))


def passed_on(message: InboundMessage, said: str, *, team_contact: str, mailbox: str,
              emailed: tuple[Reply, ...] = (), notes: Sequence[str] = ()) -> HandlerResult:
    """The reply to a message that only needs a person: it has been passed on. ``emailed``:
    the team's email of a chat message (``email_to_team``), sent with the reply. ``notes``:
    lines said after it (documents beside the message that were not read)."""
    copied = copied_to(message, team_contact=team_contact, mailbox=mailbox)
    text = wording.passed_to_team_text(
        _quoted(said), contact=None if _same(team_contact, mailbox) else team_contact,
        copied=bool(copied), emailed=bool(emailed))
    text = "\n\n".join([text, *notes])
    # Shaped as ``ask --json`` answers are (model.Answer.to_json), with what was passed on.
    data = {"intent": "for-the-team", "answered": False, "answer": text, "data": {},
            "attachments": [], "refused_reason": None, "passed_on": said,
            "copied_to": list(copied), "emailed_to": [r.thread.address for r in emailed]}
    return HandlerResult(Outcome.FOR_THE_TEAM, Reply(
        message.thread, text, cc=copied, reply_to=_between_them(message, copied), data=data),
        also=emailed)


def email_to_team(message: InboundMessage, contact: Contact, *, team_contact: str,
                  mailbox: str, received: datetime) -> tuple[Reply, ...]:
    """A chat message that needs a person, emailed to the data team when
    MARAC_DATA_TEAM_CONTACT is one address other than the mailbox; answers to it go to the
    sender. Nothing for email, where the reply is copied to the team instead (``copied_to``),
    and for the command line, which sends nothing. ``received``: when it came, in the
    configured time zone."""
    address = _team_address(team_contact, mailbox)
    if message.channel not in (Channel.SLACK, Channel.TEAMS) or address is None:
        return ()
    name = message.sender_name or contact.name or contact.email
    text = wording.team_email_text(
        name=name, address=contact.email, channel=wording.channel_title(message.channel),
        received=received, text=_cut(message.text.strip(), KEPT_CHARS))
    subject = wording.team_email_subject(name, wording.channel_title(message.channel))
    return (Reply(ThreadRef(Channel.EMAIL, address), text, subject=subject,
                  reply_to=(contact.email,)),)


def passing_note(said: str) -> str:
    """The line said under an answer when the message also needed a person."""
    return wording.passed_to_team_note(_quoted(said))


def copied_in(answered: HandlerResult, message: InboundMessage, *, team_contact: str,
              mailbox: str, emailed: tuple[Reply, ...] = ()) -> HandlerResult:
    """An answer to a message that also needed a person (``passing_note`` among its notes),
    copied to the team as ``passed_on`` would be, or sent with their email (``emailed``)."""
    if emailed:
        answered = replace(answered, also=(*answered.also, *emailed))
    copied = copied_to(message, team_contact=team_contact, mailbox=mailbox)
    if answered.reply is None or not copied:
        return answered
    return replace(answered, reply=replace(answered.reply, cc=(*answered.reply.cc, *copied),
                                           reply_to=_between_them(message, copied)))


def _between_them(message: InboundMessage, copied: tuple[str, ...]) -> tuple[str, ...]:
    """With the team copied in, answers go to the sender and the team, not to the mailbox:
    the team's "reply all" would otherwise reach the bot, which refuses an address it does
    not know, and the sender's "thanks" would reach the bot and not the team."""
    return (message.thread.address, *copied) if copied else ()


def copied_to(message: InboundMessage, *, team_contact: str, mailbox: str) -> tuple[str, ...]:
    """The data team's address, when the reply is an email and MARAC_DATA_TEAM_CONTACT is
    one address that is not the mailbox (the mailbox is the bot itself)."""
    address = _team_address(team_contact, mailbox)
    if message.channel != Channel.EMAIL or address is None:
        return ()
    return (address,)


def _team_address(team_contact: str, mailbox: str) -> str | None:
    """MARAC_DATA_TEAM_CONTACT when it is one email address and not the mailbox."""
    if _same(team_contact, mailbox) or not _ADDRESS.fullmatch(team_contact.strip()):
        return None
    return team_contact.strip()


def _same(contact: str, mailbox: str) -> bool:
    return contact.strip().lower() == mailbox.strip().lower()


def _quoted(said: str) -> str:
    """What they said, short enough to quote back."""
    return _cut(said, QUOTED_CHARS)


def _cut(text: str, limit: int) -> str:
    """``text``, cut with an ellipsis to at most ``limit`` characters."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"
