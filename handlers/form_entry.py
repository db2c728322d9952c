"""A meeting entered by hand (a Slack form, a Teams card, a sentence): checked, recorded and
answered exactly as the same meeting's row in a file (issue 16).

The entry is validated as a one-row sheet (validation/hand_entry.py) against the same context
a file gets (registry, the sender's rights, the stored meetings, the bands), then recorded by
``record_submission`` with its channel, sender, time and the values entered: a held change
waits for Confirm / Keep like any other. Runs in the worker's transaction.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.data_team import name_data_team
from handlers.result import HandlerResult, Outcome
from handlers.submission import outcome_of
from kernel import wording
from kernel.config import Policy
from kernel.entry import EntryKind, FormOffer, FormRequest, MeetingEntry
from kernel.messages import Channel, InboundMessage, Reply, dedupe_prefix
from reports.reply import ReceivedFile
from store.hand_entries import clear_sheet_place
from store.meetings import record_submission
from store.models import Marac
from store.views import DbStoredMeetings, sender_view, validation_context
from validation.columns import Edition
from validation.context import ValidationContext
from validation.hand_entry import field_of, validate_entry
from validation.issues import Issue, Severity
from validation.report import FileReport

logger = logging.getLogger(__name__)

SCOTLAND = "Scotland"


@dataclass(frozen=True)
class Checked:
    """An entry with its report, before anything is recorded."""

    entry: MeetingEntry
    report: FileReport
    label: str


def check_entry(
    session: Session,
    entry: MeetingEntry,
    *,
    sender: str,
    channel: str,
    settings: Policy,
    today: date,
) -> Checked:
    """Validate the entry as a file row would be, recording nothing."""
    context = validation_context(
        session,
        today=today,
        sender=sender,
        bands=settings.bands,
        max_file_bytes=settings.max_file_bytes,
    )
    label = wording.form_label(channel, sentence=entry.kind is EntryKind.SENTENCE)
    edition = edition_for(session, context, entry.marac)
    report = validate_entry(entry, context, label=label, edition=edition)
    return Checked(entry, name_data_team(report, settings.data_team_contact), label)


def field_errors(checked: Checked) -> dict[str, str]:
    """Field key → what to change, for every hard finding a form can show beside a field
    (the first per field): nothing is recorded while there are any."""
    errors: dict[str, str] = {}
    for issue in checked.report.by_severity(Severity.HARD):
        key = field_of(issue)
        text = wording.field_error(issue.code, issue_params(issue))
        if key is not None and text is not None and key not in errors:
            errors[key] = text
    return errors


def edition_for(session: Session, context: ValidationContext, marac: str) -> Edition:
    """Scottish Maracs see (and their entries are read with) the Scotland edition's headers."""
    info = context.registry.resolve(marac) if context.registry is not None else None
    if info is None:
        return Edition.UK
    nation = session.scalar(select(Marac.nation).where(Marac.name == info.name))
    return Edition.SCOTLAND if nation == SCOTLAND else Edition.UK


def record_entry(
    session: Session,
    message: InboundMessage,
    entry: MeetingEntry,
    *,
    sender: str,
    settings: Policy,
    today: date,
    now: datetime,
) -> HandlerResult:
    """Check and record a hand-entered meeting; the reply reads like a file's."""
    checked = check_entry(
        session, entry, sender=sender, channel=message.channel, settings=settings, today=today
    )
    submission = record_submission(
        session,
        report=checked.report,
        raw=entry.to_json(),
        channel=message.channel,
        sender=sender,
        received_at=message.received_at or now,
        declared_quarter=None,
        dedupe_key=_dedupe_key(message, checked.report.sha256),
        confirm=False,
        held_expiry=timedelta(days=settings.held_expiry_days),
        now=now,
    )
    submission.kind = entry.kind.value
    clear_sheet_place(session, submission.id)
    report = checked.report
    logger.info("%s from %s: %s", checked.label, sender, report.status)
    held_until = today + timedelta(days=settings.held_expiry_days) if report.rows_held else None
    # A form with a hard issue comes back with what was typed in it, so nothing is lost.
    again = (
        _typed_again(session, entry, sender)
        if report.rows_rejected
        and (entry.kind is EntryKind.FORM and message.channel in FORM_CHANNELS)
        else None
    )
    text = entry_reply_text(report, held_until=held_until)
    # Chat shows the headline in bold, as it does a file's (bot/channels/chat/render.py).
    shown = {"kind": "submission", "headline": text.splitlines()[0]}
    reply = Reply(message.thread, text, data=shown | ({"form": again} if again is not None else {}))
    received = ReceivedFile(checked.label, entry.to_json(), report)
    return HandlerResult(outcome_of([received]), reply, reports=(report,))


def _typed_again(session: Session, entry: MeetingEntry, sender: str) -> FormOffer | None:
    offer = form_offer(session, sender)
    if offer is None:
        return None
    values = {key: _whole(value) for key, value in entry.counts.items()}
    return FormOffer(offer.choices, entry.marac or None, entry.day, values)


def _whole(value: str | int | None) -> int | None:
    if value is None or isinstance(value, int):
        return value
    try:
        return int(value)
    except ValueError:
        return None


def entry_reply_text(report: FileReport, *, held_until: date | None) -> str:
    """What became of the meeting in words, the figures held (old → new), the issues by the
    fields' labels, then how to confirm: each said once."""
    held = [i for i in report.issues if i.code == HELD_CODE]
    lines = [entry_headline(report, held)]
    changes = [f"  - {change}" for issue in held for change in _changes(issue)]
    lines += ["", *changes] if changes else []
    for severity in (Severity.HARD, Severity.SOFT):
        issues = [
            i for i in report.by_severity(severity) if not i.is_file_level and i.code != HELD_CODE
        ]
        if issues:
            lines += ["", wording.FORM_SEVERITY_HEADINGS[severity.value]]
            lines += [
                wording.form_issue_line(i.code, issue_params(i), fallback=i.message) for i in issues
            ]
    if report.rows_held:
        lines += ["", wording.form_confirm_instructions(held_until)]
    return "\n".join(lines) + "\n"


# The finding that a meeting's figures differ from those recorded: the change waits.
HELD_CODE = "changed-from-previous"


def entry_headline(report: FileReport, held: list[Issue]) -> str:
    """The reply's first line, as a file's would say it but of the one meeting."""
    row = report.rows[0] if len(report.rows) == 1 else None
    status = report.status
    if status == "accepted" and report.rows_unchanged:
        status = "unchanged"
    hard = row is None or row.hard or report.rejected_file
    return wording.entry_headline(
        "rejected" if hard else status,
        marac=None if hard or row is None else row.marac_name,
        day=None if hard or row is None else row.meeting_date,
        changed=sum(len(_changes(i)) for i in held),
    )


def _changes(issue: Issue) -> list[str]:
    """ "Number of repeat cases: 4 → 9" for each figure a held change alters (a form has no
    column letters, so the file's are left out)."""
    text = str(issue.params.get("changes", ""))
    return [_LETTER.sub("", part, count=1) for part in text.split("; ") if part]


_LETTER = re.compile(r"^[A-Z]{1,2} (?=\S)")


def issue_params(issue: Issue) -> dict[str, object]:
    return {**issue.params, "value": issue.value, "column": issue.column}


def _dedupe_key(message: InboundMessage, sha256: str) -> str | None:
    """Under the message's prefix, as a file's is: a redelivery records nothing new, and the
    reply's Confirm / Keep buttons find the held change by it."""
    if not message.dedupe_key:
        return None
    return f"{dedupe_prefix(message.channel, message.dedupe_key)}:{sha256}"


# -- what a form offers: the sender's Maracs, and a recorded meeting's figures -----------------


@dataclass(frozen=True)
class MaracChoice:
    """A Marac the sender may record for, with what the form needs to show it."""

    name: str
    region: str
    edition: Edition


def form_choices(session: Session, sender: str) -> list[MaracChoice]:
    """The Maracs this contact may submit for (coordinators their own, admins every one),
    by name; none for an unknown sender or a role that does not submit."""
    view = sender_view(session, sender)
    if view is None:
        return []
    maracs = session.scalars(
        select(Marac).where(Marac.retired_at.is_(None)).order_by(Marac.region, Marac.name)
    )
    return [
        MaracChoice(m.name, m.region, Edition.SCOTLAND if m.nation == SCOTLAND else Edition.UK)
        for m in maracs
        if view.may_submit(m.name)
    ]


def recorded_counts(session: Session, marac: str, day: date) -> dict[str, int | None] | None:
    """The meeting's current figures (to fill the form in for an amendment), or None."""
    current = DbStoredMeetings(session).current(marac, day)
    return None if current is None else dict(current)


def form_offer(
    session: Session, sender: str, *, marac: str | None = None, day: date | None = None
) -> FormOffer | None:
    """The form for this sender, with a recorded meeting's figures filled in when the Marac
    and date chosen name one (an amendment); None when they may record for no Marac."""
    choices = form_choices(session, sender)
    if not choices:
        return None
    allowed = marac if any(c.name == marac for c in choices) else None
    recorded = recorded_counts(session, allowed, day) if allowed and day else None
    note = wording.form_prefilled_note(allowed, day) if recorded and allowed else None
    return FormOffer(
        tuple((c.name, c.edition.value) for c in choices), allowed, day, recorded or {}, note
    )


# -- asked for the form: "record a meeting", or a card's refresh ------------------------------

# The channels whose replies can show a form (a Teams card; a Slack button opening the modal).
FORM_CHANNELS = frozenset({Channel.SLACK, Channel.TEAMS})
_WANTS_FORM = re.compile(
    r"^\s*(?:please\s+)?(?:record|enter|add|new)\s+(?:a\s+)?meeting\b", re.IGNORECASE
)


def wants_form(message: InboundMessage) -> bool:
    """ "record a meeting" (and close variants) in a chat that can show the form."""
    return message.channel in FORM_CHANNELS and bool(_WANTS_FORM.match(message.text or ""))


def offer_form(
    session: Session, message: InboundMessage, request: FormRequest, *, sender: str
) -> HandlerResult:
    """The form, as data each chat channel renders; filled in for a recorded meeting."""
    offer = form_offer(session, sender, marac=request.marac, day=request.day)
    if offer is None:
        return HandlerResult(
            Outcome.FORM_NOT_OFFERED, Reply(message.thread, wording.FORM_NO_MARACS)
        )
    text = offer.note or wording.FORM_INTRO
    return HandlerResult(Outcome.FORM_OFFERED, Reply(message.thread, text, data={"form": offer}))
