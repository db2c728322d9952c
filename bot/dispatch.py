"""One dispatcher over one normalised message, whatever the channel (STYLE.md 3).

Explicit steps, each either answering or passing on: drop automatic mail (no reply loops,
ever), identify the sender, route to submission, confirmation, question or help. Every message
gets exactly one outcome; the caller records it with the reply in one transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from bot.channels.email.threads import replied_prefixes
from bot.channels.web import chat_link
from bot.settings import Settings
from handlers import amend, ask, buttons, confirmation, for_team, form_entry, held_thread, help
from handlers.result import HandlerResult, Outcome
from handlers.submission import (
    Checked,
    ReadsBegun,
    ReceivedFile,
    Submitted,
    check_files,
    file_key,
    is_spreadsheet,
    outcome_of,
    received_file,
    refuse_files,
    submit_files,
    within_limit,
)
from kernel import wording
from kernel.entry import FormRequest
from kernel.messages import Attachment, InboundMessage, Reply, dedupe_prefix
from kernel.quarters import Quarter
from reports.reply import (
    MadeAhead,
    headline,
    make_ahead,
    refused_maracs,
    submission_attachments,
    submission_text,
)
from reports.reply_html import submission_html
from store.models import Contact
from store.registry import find_contact
from store.views import ContactSenderView, sender_view
from validation.context import names_its_year
from validation.issues import Severity

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Ahead:
    """A submission's work done before the writing transaction (``Dispatcher.check_ahead``):
    each file's validation report, and the reply's attachments made from it."""

    reports: Checked
    attachments: tuple[MadeAhead, ...]
    # The registered sender found for the files: ``dispatch`` records them under this address
    # without looking the contact up again (issue 14).
    sender: ContactSenderView


@dataclass(frozen=True)
class Dispatcher:
    settings: Settings
    # Draw the grid's picture for a grid question (chat and email show it; the command line
    # only when asked to save attachments: drawing takes far longer than answering).
    images: bool = True

    @property
    def mailbox(self) -> str:
        return self.settings.mailbox_address

    @property
    def domain(self) -> str:
        return self.mailbox.rsplit("@", 1)[-1]

    def check_ahead(self, session: Session, message: InboundMessage, *,
                    now: datetime) -> Ahead | None:
        """The files of a message that ``dispatch`` will take as a submission, validated now
        in a session that only reads (``handlers.submission.check_files``), with their
        annotated copies made; None for any other message. ``dispatch`` decides again, and
        does itself what was not done ahead or no longer fits (recording corrected a report)."""
        if message.button is not None or message.automatic_reason or not message.sender:
            return None
        if not message.sender_verified or message.entry is not None:
            return None
        if message.form_request is not None:
            return None
        # The first MARAC_MAX_ATTACHMENTS, as dispatch takes them (and warns about the rest).
        spreadsheets = [a for a in message.attachments
                        if message.files_are_returns or is_spreadsheet(a)
                        ][:self.settings.max_attachments]
        if not spreadsheets:
            return None
        reads = ReadsBegun(spreadsheets, max_file_bytes=self.settings.max_file_bytes)
        try:
            # The registered contact (None: unknown or retired), looked up once for the checks.
            sender = sender_view(session, message.sender)
            if sender is None:
                return None
            today = now.astimezone(self.settings.tz).date()
            submitted = self._submitted(message, sender.email, now, spreadsheets, today=today)
            checked = check_files(session, submitted, settings=self.settings, today=today,
                                  sender=sender, reads=reads)
        finally:
            reads.cancel_rest()
        made = tuple(make_ahead(received_file(a, report))
                     for a in spreadsheets
                     if (report := checked.get(file_key(a))) is not None)
        return Ahead(checked, made, sender)

    def dispatch(self, session: Session, message: InboundMessage, *, now: datetime,
                 item_id: int | None = None, ahead: Ahead | None = None,
                 answered_elsewhere: bool = False) -> HandlerResult:
        """Decide what the message is and handle it, in the caller's transaction.

        ``item_id`` is the message's place in the stored inbox (none for the command line).
        ``answered_elsewhere``: the same message is done under another id (it came by another
        route, an email by SMTP and IMAP, or was resent), so it is not answered again; the
        worker learns it as it renews its claim (``store.queue.renew_claim``). A chat
        event's resend is stopped sooner, by its stored event id. ``ahead``: what
        ``check_ahead`` did for it, with the same ``now``.
        """
        if answered_elsewhere:
            return HandlerResult(Outcome.DUPLICATE_MESSAGE)
        if message.button is not None:  # a Confirm / Keep button in chat
            return buttons.handle_press(session, message, message.button, now=now)
        if message.automatic_reason:
            return HandlerResult(Outcome.ignored(message.automatic_reason))
        if message.asked_by_operator and message.is_question:  # marac-bot ask without --as
            return help.with_actions(ask.answer(
                session, message, message.text, asker=None, settings=self.settings,
                today=now.astimezone(self.settings.tz).date(), is_operator=True,
                images=self.images), message, role=None)
        if not message.sender:
            return HandlerResult(Outcome.IGNORED_NO_SENDER)
        today = now.astimezone(self.settings.tz).date()
        spreadsheets, skipped = within_limit(
            [a for a in message.attachments if message.files_are_returns or is_spreadsheet(a)],
            self.settings.max_attachments)
        others = _documents(message)
        if ahead is not None and spreadsheets:
            # A registered sender's files (check_ahead passes nothing else), found moments ago
            # in the same registry: not looked up again. A change to the contact committed in
            # between counts as coming just after this message, as it would a moment later.
            return self._submission(session, _to_registered_address(message, ahead.sender.email),
                                    ahead.sender.email, today, now, files=spreadsheets,
                                    skipped=skipped, unread=others, ahead=ahead)
        contact = find_contact(session, message.sender) if message.sender_verified else None
        if contact is None and message.is_question and not spreadsheets:
            # The command line's --as someone unregistered: the question engine says why not.
            return ask.answer(session, message, message.text, asker=None,
                              settings=self.settings, today=today, images=self.images)
        if contact is None:
            return self._refuse(session, message, spreadsheets, now)
        message = _to_registered_address(message, contact.email)
        if message.entry is not None:  # a meeting entered in a form: checked as a file row
            return form_entry.record_entry(session, message, message.entry,
                                           sender=contact.email, settings=self.settings,
                                           today=today, now=now)
        if message.form_request is not None or (not spreadsheets
                                                and form_entry.wants_form(message)):
            return form_entry.offer_form(session, message,
                                         message.form_request or FormRequest(),
                                         sender=contact.email)
        if spreadsheets:
            return self._submission(session, message, contact.email, today, now,
                                    files=spreadsheets, skipped=skipped, unread=others,
                                    ahead=ahead)
        prefixes = self._replied_prefixes(session, message)
        in_thread = held_thread.answer(session, message, sender=contact.email,
                                       prefixes=prefixes, now=now)
        if in_thread is not None:  # a reply on held changes, read in that context
            return in_thread
        if confirmation.is_confirmation(message.text, message.subject):
            return self._confirm(session, message, contact, now, prefixes=prefixes)
        if (trust := self._trust(session, message, contact, now)) is not None:
            return trust
        if not message.is_question and help.says_attached(message):  # the file was forgotten
            return HandlerResult(Outcome.NO_ATTACHMENT,
                                 help.no_attachment(message, mailbox=self.mailbox))
        if not message.is_question and help.is_out_of_office(message):  # headers missing
            return HandlerResult(Outcome.IGNORED_AUTO_REPLY)
        sentence = None if message.is_question else amend.sentence_of(message)
        if sentence is not None:  # "change Croydon 3 Oct 2024 repeat cases to 9"
            return amend.handle(session, message, sentence, sender=contact.email,
                                settings=self.settings, today=today, now=now)
        if chat_link.is_request(message):  # "dashboard": a sign-in link (issue 15)
            # Here, not at the top: the registry loads every channel, which `ask` need not.
            from bot.channels.registry import is_private_thread

            return chat_link.answer(session, message, contact, settings=self.settings, now=now,
                                    private=is_private_thread(message.thread))
        if not message.is_question and _thanks_in_a_thread(message):
            return HandlerResult(Outcome.THANKS)
        if (said := for_team.needs_a_person(message)) is not None:
            return self._for_team(session, message, contact, said, now=now, item_id=item_id,
                                  others=others)
        # Beside a file we cannot read, only a plain question is one: "Our Q3 figures for
        # Lambeth." describes the file, and must be told it was not read.
        question = (message.text if message.is_question
                    else ask.question_text(session, message, today=today,
                                           plainly=bool(others)))
        if question is not None:
            # The documents beside it are named: the sender may have meant one as a return.
            answered = ask.answer(session, message, question, asker=contact,
                                  settings=self.settings, today=today, images=self.images,
                                  notes=help.unread_notes(others))
            return help.with_actions(answered, message, role=contact.role)
        if help.is_thanks(message):  # nothing to answer; a reply would only invite another
            return HandlerResult(Outcome.THANKS)
        if others:
            return HandlerResult(Outcome.NOT_A_TEMPLATE,
                                 help.not_a_template(message, others, mailbox=self.mailbox))
        return HandlerResult(Outcome.HELP, help.how_to_submit(message, mailbox=self.mailbox,
                                                               role=contact.role))

    def _for_team(self, session: Session, message: InboundMessage, contact: Contact,
                  said: str, *, now: datetime, item_id: int | None,
                  others: list[Attachment]) -> HandlerResult:
        """A message only a person can deal with: kept for the data team, and its sender
        told so. A question about returns asked beside it, and understood, is answered too
        ("I'm off from Friday. Has Croydon's Q3 arrived?")."""
        from handlers.questions import Understanding, asks_plainly, understanding

        today = now.astimezone(self.settings.tz).date()
        for_team.keep(session, message, contact, now=now, item_id=item_id)
        logger.info("kept message from %s for the data team", contact.email)
        team, mailbox = self.settings.data_team_contact, self.mailbox
        # Only a plain question in the body: the subject ("Q3 late") names the message.
        found = ask.question_text(session, message, today=today, plainly=True,
                                  leaving_out=said, with_subject=False)
        clear = [q for q in (found, *for_team.other_clauses(said))
                 if q is not None and asks_plainly(q)
                 and understanding(session, q, today=today) is Understanding.CLEAR]
        notes = help.unread_notes(others)
        # In chat, the team learns of it by email (in email, the reply is copied to them).
        emailed = for_team.email_to_team(message, contact, team_contact=team, mailbox=mailbox,
                                         received=(message.received_at or now).astimezone(
                                             self.settings.tz))
        if not clear:
            return for_team.passed_on(message, said, team_contact=team, mailbox=mailbox,
                                      emailed=emailed, notes=notes)
        # Said under the answer, in its HTML too (a grid's): what else was passed on.
        answered = ask.answer(session, message, clear[0], asker=contact,
                              settings=self.settings, today=today, images=self.images,
                              notes=[*notes, for_team.passing_note(said)])
        return for_team.copied_in(answered, message, team_contact=team, mailbox=mailbox,
                                  emailed=emailed)

    def _answered(self, session: Session, received: list[ReceivedFile]) -> list[str]:
        """Soft issues already explained for the same meetings (issue 13): answered."""
        from handlers.explain import answered_notes

        return answered_notes(session, [r.report for r in received], tz=self.settings.tz)

    def _numbers(self, session: Session, submitted: Submitted, received: list[ReceivedFile],
                 today: date) -> list[str]:
        """The submission numbers, to withdraw or explain by (issue 13)."""
        from handlers.withdraw import ids_note

        if submitted.dedupe_prefix is None:  # no message to quote (the command line)
            return []
        # The submissions just recorded, or met again: not read back (issue 14). Only the
        # sender's own: a Message-ID reused by someone else must not show them another's.
        # Not a file refused whole for its Maracs: there is nothing in it to withdraw.
        own = [(r.recorded.number, r.recorded.filename) for r in received
               if r.recorded is not None and r.recorded.sender == submitted.sender
               and not refused_maracs(r.report)]
        soft = any(r.report.by_severity(Severity.SOFT) for r in received)
        note = ids_note(session, recorded=own, soft=soft, today=today,
                        due_days=self.settings.due_days)
        return [note] if note else []

    def _trust(self, session: Session, message: InboundMessage, contact: Contact,
               now: datetime) -> HandlerResult | None:
        """Withdrawing a submission, or explaining a soft issue (issue 13): bot/trust/steps."""
        from bot.trust import steps

        found = steps.withdrawal(session, message, contact, settings=self.settings, now=now)
        return found or steps.explanation(session, message, contact, now=now)

    def _refuse(self, session: Session, message: InboundMessage,
                spreadsheets: list[Attachment], now: datetime) -> HandlerResult:
        if spreadsheets:
            refuse_files(session, self._submitted(message, message.sender, now, spreadsheets))
        logger.info("refused %s: not a registered sender%s", message.sender,
                    "" if message.sender_verified else " (not verified)")
        contact = self.settings.data_team_contact
        # By email the refusal can say which address to send from; in chat it cannot.
        text = (wording.unknown_sender_text(self.mailbox, contact) if message.thread.by_address
                else wording.chat_unknown_sender_text(contact))
        return HandlerResult(Outcome.REFUSED_UNKNOWN_SENDER, Reply(message.thread, text))

    def _submission(self, session: Session, message: InboundMessage, sender: str,
                    today: date, now: datetime, *, files: list[Attachment],
                    skipped: list[Attachment], unread: list[Attachment],
                    ahead: Ahead | None) -> HandlerResult:
        """The files of a registered ``sender`` (their registry address, which the message's
        reply address already is: ``_to_registered_address``), checked and recorded; the
        message's other documents (``unread``) are named, so the reply covers every one."""
        submitted = self._submitted(message, sender, now, files, today=today)
        received = submit_files(session, submitted, settings=self.settings, today=today,
                                checked=ahead.reports if ahead is not None else None)
        held_until = (today + timedelta(days=self.settings.held_expiry_days)
                      if any(r.report.rows_held for r in received) else None)
        notes = [wording.not_processed_text([a.filename for a in skipped],
                                            limit=self.settings.max_attachments)] if skipped else []
        notes += help.unread_notes(unread)
        notes += self._answered(session, received)
        notes += self._numbers(session, submitted, received, today)
        text = submission_text(received, held_until=held_until, notes=notes)
        html = submission_html(received, held_until=held_until, notes=notes)
        reply = Reply(message.thread, text, html=html,
                      attachments=submission_attachments(
                          received, ahead.attachments if ahead is not None else ()),
                      data={"kind": "submission", "headline": headline(received),
                            "explain_cells": _soft_cells(received)})
        return HandlerResult(outcome_of(received), reply,
                             reports=tuple(r.report for r in received))

    def _submitted(self, message: InboundMessage, sender: str, now: datetime,
                   files: list[Attachment], *, today: date | None = None) -> Submitted:
        quarter = None
        if message.declared_quarter_text and today is not None:
            quarter = Quarter.find_in(message.declared_quarter_text, today=today)
        prefix = dedupe_prefix(message.channel, message.dedupe_key) if message.dedupe_key else None
        return Submitted(sender=sender, channel=message.channel,
                         received_at=message.received_at or now, files=files,
                         dedupe_prefix=prefix, declared_quarter=quarter,
                         declared_year_given=names_its_year(message.declared_quarter_text or ""),
                         confirm=message.confirm)

    def _replied_prefixes(self, session: Session, message: InboundMessage) -> list[str]:
        """The dedupe prefixes of the messages this one answers: by email, through our
        replies' Message-IDs in its References; in chat, the thread it was posted in."""
        prefixes = [dedupe_prefix(message.channel, key) for key in message.replies_to]
        if message.channel == "teams" and not prefixes:  # a 1:1 chat has no threads
            from bot.channels.registry import is_private_thread

            if is_private_thread(message.thread):
                prefixes = held_thread.chat_context(session, message)
        if message.thread.references:
            prefixes += replied_prefixes(session, sender=message.sender,
                                         references=message.thread.references,
                                         domain=self.domain)
        return prefixes

    def _confirm(self, session: Session, message: InboundMessage, contact: Contact,
                 now: datetime, *, prefixes: list[str]) -> HandlerResult:
        ids = [i for p in prefixes
               for i in confirmation.submissions_under(session, dedupe_prefix=p,
                                                       sender=contact.email)]
        count = confirmation.confirm_changes(session, sender=contact.email, submission_ids=ids,
                                             now=now)
        return HandlerResult(Outcome.CONFIRMED if count else Outcome.CONFIRM_NOTHING_PENDING,
                             Reply(message.thread, wording.confirmed_text(count)))


def _soft_cells(received: list[ReceivedFile]) -> list[str]:
    """The cells of checks a chat reply offers to explain (issue 13), in the order found."""
    cells = (i.cell for r in received for i in r.report.by_severity(Severity.SOFT) if i.cell)
    return list(dict.fromkeys(cells))


def _to_registered_address(message: InboundMessage, address: str) -> InboundMessage:
    """An email reply to a contact goes to the ``address`` the registry holds for them,
    whatever the message's headers asked for: answers and confirmations carry data (issue 10)."""
    if not message.thread.by_address or message.thread.address == address:
        return message
    logger.warning("reply for %s redirected from %s to the registered address",
                   address, message.thread.address)
    return replace(message, thread=replace(message.thread, address=address))


def _thanks_in_a_thread(message: InboundMessage) -> bool:
    """Only thanks under a reply's subject ("Thanks!" under "RE: Lambeth Q3 2024/25"): the
    subject repeats the thread's topic, it asks nothing. A new message whose subject is a
    question is still answered, "Thanks" in its body or not."""
    subject = message.subject.strip()
    return confirmation.strip_reply_prefix(subject) != subject and help.is_thanks(message)


def _documents(message: InboundMessage) -> list[Attachment]:
    """The message's files that are neither returns to read nor inline images (a PDF, a
    winmail.dat): answered, or named in the submission's reply, never read."""
    if message.files_are_returns:
        return []
    return [a for a in message.attachments if not is_spreadsheet(a) and not _is_inline_image(a)]


def _is_inline_image(attachment: Attachment) -> bool:
    """Signature logos and pasted screenshots ride along with many emails: not documents."""
    return attachment.content_type.startswith("image/")


