"""Answers to dashboard questions, help, and refusals."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from kernel.answers import figures as _figures
from kernel.wording.common import _MONTH_ABBR, day_text, did_you_mean, echoed, plural

if TYPE_CHECKING:  # only named in annotations, so not re-exported through ``wording``
    from kernel.answers import (
        Area,
        Fte,
        HeldChange,
        MissingMarac,
        PartnerShare,
        Per10k,
        PlaceInfo,
        QuarterInfo,
        QuarterStatus,
        Rate,
        Received,
        ScopeInfo,
        YearInfo,
    )
    from kernel.config import Bands

# ---------------------------------------------------------------------------------------------
# Dashboard questions (handlers/questions, reports/answers.py, reports/grid.py): "has Croydon
# uploaded Q3?", "who hasn't uploaded Q2?", a Marac's year, the figures of spec §5, the upload
# grid, help, and refusals. Handlers hand over typed values (kernel/answers) of numbers and
# dates; these functions word them.
# ---------------------------------------------------------------------------------------------

QUESTION_HELP_INTRO = "Ask me about Marac data returns in your own words, for example:"
QUESTION_HELP_TOPICS: dict[str, str] = {
    "how-to": "how to send your data, when it is due, and a template made out for your Marac",
    "template": "a blank data template to fill in",
    "history": "where a meeting's figures came from: every version, with its file, sender and "
    "time",
    "export": "the recorded meetings of a Marac or an area, as a spreadsheet",
    "grid": "which Maracs have sent which quarters of a year (an image in chat)",
    "missing": "the Maracs that have not sent a quarter, with their coordinators",
    "summary": "Maracs that sent figures, cases, children, per 10,000 adult women, repeat and "
    "partner-agency rates",
    "figure": "cases, repeats, children, police or partner-agency referrals, per 10,000, Idva "
    "and administrator capacity, for a Marac or an area",
    "has-uploaded": "whether a Marac has sent a quarter: when, by whom, meetings, cases and "
    "changes waiting for confirmation",
    "status": "each quarter of a Marac's financial year",
    "meaning": "what a figure counts and how it is worked out",
    "help": "this list",
}
QUESTION_HELP_PERIODS = (
    "Quarters can be written Q3, Q3 2024/25, Oct-Dec 2024, Oct-Dec, the December quarter, "
    "quarter ending December 2024, last quarter or this quarter (without a year: the latest "
    "one that has started); years as 2024/25, this year or last year. Without one I answer "
    "for the last quarter that ended. Places can be a Marac, a region, a police force area or "
    "a nation."
)
# The help's first part: what can be done besides asking (issues 13, 15, 16), grouped for the
# reader. Roles as in spec §6; who may do what is decided elsewhere, this only says it.
HELP_DO_HEAD = "What you can do here:"
HELP_DO_COORDINATORS = "For a Marac's returns (coordinators):"
HELP_DO_MANAGERS = "For managers and the data team:"
HELP_DO_EVERYONE = "For everyone:"
# Said among the actions, so left out of the questions' list that follows them.
HELP_DO_TOPICS = ("history", "export")
_HELP_SUBMITTERS = ("coordinator", "admin")
_HELP_EXPORTERS = ("manager", "admin")


def help_actions(*, chat: bool, slack: bool, role: str | None) -> str:
    """The things the bot does on request, as short lines: a coordinator sees what they do
    with their returns, a manager what they look up, an admin both; ``role`` None (unknown)
    shows both groups under their headings. ``chat``: said in Slack or Teams."""
    if chat:
        form = ('"/marac" or "record a meeting"' if slack else '"record a meeting"')
        record = f"- {form}: a form for one meeting, checked like a row of the template"
    else:
        record = ('- "record a meeting", in Slack or Teams: a form for one meeting, checked like '
                  "a row of the template")
    submitter = [
        record,
        '- "change Croydon 3 Oct 2024 repeat cases to 9": correct one figure; I show old → new '
        "and ask you to confirm",
        '- "WITHDRAW 12": take back a submission, by the number my reply to it gave',
        '- "EXPLAIN D7: a new police referral pathway started in October": say why a figure I '
        "asked you to check is right",
    ]
    link = "a sign-in link (in a direct message)" if chat else "a sign-in link"
    everyone = [
        f'- "dashboard": {link} to the web dashboard of the grid and each Marac\'s figures',
        "- \"where did Croydon's 3 Oct figures come from?\": every version of a meeting's "
        "figures, with its file, sender and time",
    ]
    export = ['- "send me the Q3 data for London": the recorded meetings as a spreadsheet']
    if role is None:
        return "\n".join([HELP_DO_HEAD, HELP_DO_COORDINATORS, *submitter, HELP_DO_MANAGERS,
                          *export, HELP_DO_EVERYONE, *everyone])
    lines = [HELP_DO_HEAD]
    lines += submitter if role in _HELP_SUBMITTERS else []
    lines += everyone
    lines += export if role in _HELP_EXPORTERS else []
    return "\n".join(lines)


QUESTION_NOT_UNDERSTOOD = "Sorry, I did not understand that question."
QUESTION_NEED_MARAC = "Which Marac do you mean? For example: has Croydon uploaded Q3?"
QUARTER_DEFAULTED = "(No quarter was named, so this is the last one that ended.)"
YEAR_DEFAULTED = (
    "(No year was named, so this is the financial year of the last quarter that ended.)"
)
ANSWER_RESTRICTED = "Only the Maracs you may ask about are included."
HELD_NONE = "No changed figures are waiting for confirmation."

METRIC_LABELS: dict[str, str] = {
    "cases": "Cases discussed",
    "meetings": "Meetings",
    "children": "Children in the households",
    "cases_with_children": "Cases with children in the household",
    "repeat_rate": "Repeat rate",
    "police_share": "Police referrals",
    "partner_share": "Partner-agency referrals",
    "per_10k": "Cases per 10,000 adult women",
    "idva_fte": "Recommended Idva capacity",
    "admin_fte": "Recommended Marac administrator",
    "minoritised": "Black, Asian and racially minoritised victims",
    "lgbtq": "LGBTQ+ victims",
    "disabled": "Disabled victims",
    "male": "Male victims",
    "aged_16_17": "Victims aged 16 or 17",
    "aged_65_plus": "Victims aged 65 or over",
    "harming_under_18": "Cases where the person causing harm is under 18",
}

# What each figure counts (spec §5), said after its label by ``meaning_text``.
_MEANINGS: dict[str, str] = {
    "cases": "the cases a Marac discussed, added up over its meetings. A blank count means "
    "it was not collected, 0 means none",
    "meetings": "the Marac meetings held, one row of the template each",
    "children": "the children in the households of the cases discussed",
    "cases_with_children": "the cases discussed with children in the household",
    "repeat_rate": "repeat cases as a share of the cases discussed (repeat cases ÷ cases)",
    "police_share": "the cases referred by the police, as a share of the cases discussed",
    "partner_share": "the cases referred by agencies other than the police, as a share of the "
    "cases discussed (1 − the police share)",
    "per_10k": "a year's cases (annualised from the quarters sent) ÷ the area's adult (16+) "
    "female population × 10,000",
    "minoritised": "the cases whose victim is Black, Asian or racially minoritised, as a share "
    "of the cases discussed",
    "lgbtq": "the cases whose victim is LGBTQ+, as a share of the cases discussed",
    "disabled": "the cases whose victim is disabled, as a share of the cases discussed",
    "male": "the cases whose victim is male, as a share of the cases discussed",
    "aged_16_17": "the cases whose victim is 16 or 17, as a share of the cases discussed",
    "aged_65_plus": "the cases whose victim is 65 or over, as a share of the cases discussed",
    "harming_under_18": "the cases where the person causing harm is under 18, as a share of the "
    "cases discussed",
}


def meaning_text(metric: str, bands: Bands) -> str:
    """'what does repeat rate mean?': the figure's label, what it counts, and its band and
    national reference where spec §5 gives them."""
    label = METRIC_LABELS[metric]
    if metric in ("idva_fte", "admin_fte"):
        per = bands.idva_cases_per_fte if metric == "idva_fte" else bands.admin_cases_per_fte
        role = "Idva" if metric == "idva_fte" else "Marac administrator"
        return (f"{label}: a year's cases ÷ {per:g}, the cases one full-time {role} can take; "
                "worked out for the cases discussed and for the expected volume.")
    text = f"{label}: {_MEANINGS[metric]}."
    reference = {
        "repeat_rate": f" Usual range {percent(bands.repeat_rate_low)}–"
                       f"{percent(bands.repeat_rate_high)}; national "
                       f"{percent(bands.national_repeat_rate)}.",
        "police_share": f" Usual maximum {percent(bands.police_share_high)}.",
        "partner_share": f" National {percent(bands.national_partner_share)}.",
        "per_10k": f" Expected {bands.expected_cases_per_10k:g}; national "
                   f"{bands.national_cases_per_10k:g}.",
        "minoritised": f" National {percent(bands.national_minoritised_share)}.",
        "lgbtq": f" National {percent(bands.national_lgbtq_share)}.",
        "disabled": f" National {percent(bands.national_disabled_share)}.",
        "male": f" National {percent(bands.national_male_share)}.",
        "aged_16_17": f" National {percent(bands.national_aged_16_17_share)}.",
    }
    return text + reference.get(metric, "")


_Q_AREA_KINDS = {"region": "{name}", "police_force_area": "{name} area", "nation": "{name}",
                 "nations": "{name}"}


def percent(value: float) -> str:
    """A share as people write it: "31.2%", and "28%" rather than "28.0%"."""
    text = f"{value * 100:.1f}"
    return (text[:-2] if text.endswith(".0") else text) + "%"


def _q_num(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _q_day(iso: str) -> str:
    """ "2025-01-28" (or the date of an ISO time) as "28 Jan 2025"."""
    year, month, day = (int(part) for part in iso[:10].split("-"))
    return f"{day} {_MONTH_ABBR[month - 1]} {year}"


def _q_when(moment: datetime) -> str:
    """A time (already in local time) as "20 Jan 2025 at 10:00"."""
    return f"{day_text(moment)} at {moment:%H:%M}"


def quarter_text(period: QuarterInfo | YearInfo) -> str:
    """ "Q3 2024/25 (1 Oct – 31 Dec 2024)": a quarter with its date range, stated once."""
    return f"{period.label} ({period.range})"


def area_name(area: Area) -> str:
    """ "London", "Kent Police area", "Wales"."""
    return _Q_AREA_KINDS[area.kind].format(name=area.name)


def place_name(place: PlaceInfo, *, start: bool = False) -> str:
    """What an answer is about: a Marac, an area, or the asker's Maracs (capitalised to
    ``start`` a sentence)."""
    if place.marac:
        return place.marac
    if place.area:
        return area_name(place.area)
    name = "your Maracs" if place.restricted else "all Maracs"
    return name[0].upper() + name[1:] if start else name


def due_sentence(period: QuarterInfo, *, many: bool = False) -> str:
    """When a quarter's data is (or was) due, and whether that has passed."""
    due = day_text(period.due)
    if not period.started:
        return f"That quarter has not started yet; its data will be due by {due}."
    if period.overdue:
        return f"Data was due by {due}: {'they are' if many else 'it is'} overdue."
    if period.ended:
        return f"Data is due by {due}."
    return f"The quarter is still running; data is due by {due}."


def due_sent_sentence(period: QuarterInfo) -> str:
    """When a quarter's data that has been sent was (or is) due: asked for all the same."""
    due = day_text(period.due)
    return f"It was due by {due}." if period.overdue else f"It is due by {due}."


# --- has Croydon uploaded Q3? ----------------------------------------------------------------


def uploaded_yes(marac: str, period: QuarterInfo, meetings: int, cases: int | None) -> str:
    figures = plural(meetings, "meeting")
    if cases is not None:
        figures += f", {plural(cases, 'case')}"
    return f"{marac} has uploaded {quarter_text(period)}: {figures}."


def uploaded_no(marac: str, period: QuarterInfo) -> str:
    return f"{marac} has not uploaded {quarter_text(period)}."


def received_line(received: Received) -> str:
    who = received.by
    if received.by_name:
        who = f"{received.by_name} ({who})"
    line = (f"Last received {_q_when(received.at)} from {who}: {received.file}, by "
            f"{received.channel}.")
    if received.files > 1:
        line += f" The figures come from {plural(received.files, 'file')}."
    return line


def held_head(count: int) -> str:
    return f"{plural(count, 'changed meeting')} waiting for confirmation:"


def held_line(held: HeldChange) -> str:
    return (f"- the meeting of {day_text(held.meeting_date)}: sent by {held.sender} on "
            f"{day_text(held.created_at)}; expires {day_text(held.expires_at)} unless confirmed")


def cases_blank_note(blank: int) -> str:
    return f"Cases discussed were blank at {plural(blank, 'meeting')}."


# --- who hasn't uploaded Q2? -----------------------------------------------------------------


def missing_head(
    place: str, period: QuarterInfo, missing: int, uploaded: Sequence[str], asked: int
) -> str:
    where = f"{quarter_text(period)}, {place}"
    if asked == 0:
        return f"{where}: there are no Maracs to ask about."
    if missing == 0:
        if asked == 1:
            return f"{where}: {uploaded[0]} has uploaded."
        return f"{where}: all {plural(asked, 'Marac')} have uploaded."
    verb = "has" if missing == 1 else "have"
    return f"{where}: {missing} of {plural(asked, 'Marac')} {verb} not uploaded."


def uploaded_head(place: str, period: QuarterInfo, names: Sequence[str], asked: int) -> str:
    """ "Who has uploaded Q3?": the Maracs that have, named."""
    where = f"{quarter_text(period)}, {place}"
    if asked == 0:
        return f"{where}: there are no Maracs to ask about."
    if not names:
        return f"{where}: none of the {plural(asked, 'Marac')} has uploaded."
    if len(names) == asked == 1:
        return f"{where}: {names[0]} has uploaded."
    if len(names) == asked:
        return f"{where}: all {plural(asked, 'Marac')} have uploaded."
    verb = "has" if len(names) == 1 else "have"
    return f"{where}: {len(names)} of {plural(asked, 'Marac')} {verb} uploaded: {', '.join(names)}."


def not_yet_heading(count: int) -> str:
    return f"Not uploaded ({count}):"


def missing_line(detail: MissingMarac, previous_quarter: str | None = None) -> str:
    """A Marac that has not uploaded, with whom to chase; ``previous_quarter`` when it missed
    that one too (the consequence is said once for the list: ``in_a_row_note``)."""
    people = detail.coordinators
    who = "; ".join(f"{p.name} <{p.email}>" for p in people) or "no coordinator registered"
    line = f"- {detail.marac}: {who}"
    if previous_quarter is not None and detail.missed_previous:
        line += f" (also missed {previous_quarter})"
    return line


def in_a_row_note(names: Sequence[str], previous_quarter: str) -> str:
    """Said once under a list: which Maracs missed two quarters running, and what follows."""
    them = "it" if len(names) == 1 else "them"
    return (f"{_and(names)} also missed {previous_quarter}: two quarters in a row leave {them} "
            "out of the national figures.")


def in_a_row_head(place: str, period: QuarterInfo, previous: str, count: int, asked: int) -> str:
    """'who has missed two quarters in a row?'"""
    where = f"{quarter_text(period)}, {place}"
    if asked == 0:
        return f"{where}: there are no Maracs to ask about."
    both = f"both {previous} and {period.label}"
    if count == 0:
        return f"{where}: none of the {plural(asked, 'Marac')} has missed {both}."
    verb, them = ("has", "it") if count == 1 else ("have", "them")
    return (f"{where}: {count} of {plural(asked, 'Marac')} {verb} missed two quarters in a row "
            f"({both}), which leaves {them} out of the national figures:")


def _and(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


# --- a Marac's year --------------------------------------------------------------------------


def status_head(marac: str, year: YearInfo) -> str:
    return f"{marac}, {quarter_text(year)}:"


def status_line(status: QuarterStatus) -> str:
    quarter = status.quarter
    name = f"- {quarter.label.split()[0]} ({quarter.range})"
    due = day_text(quarter.due)
    state = status.state.value
    if state in ("accepted", "held"):
        text = f"uploaded: {plural(status.meetings, 'meeting')}"
        if status.cases is not None:
            text += f", {plural(status.cases, 'case')}"
        if status.held:
            text += f"; {plural(status.held, 'changed meeting')} waiting for confirmation"
    elif state == "overdue":
        text = f"not uploaded: overdue (due by {due})"
    elif state == "missing":
        text = f"not uploaded yet: due by {due}"
    else:
        text = f"not due yet (due by {due})"
    return f"{name}: {text}"


def status_total(meetings: int, cases: int) -> str:
    if not meetings:  # nothing sent is blank, never "0 meetings, 0 cases" (issue 13)
        return "The year so far: nothing sent yet."
    return f"The year so far: {plural(meetings, 'meeting')}, {plural(cases, 'case')}."


# --- figures (spec §5) -----------------------------------------------------------------------


def figure_head(place: PlaceInfo, period_text: str, *, summary: bool) -> str:
    if not summary:
        return f"{place_name(place, start=True)}, {period_text}:"
    if not place.marac and not place.area and not place.restricted:
        return f"National picture, {period_text}:"
    return f"The picture for {place_name(place)}, {period_text}:"


def submitted_line(submitted: int, asked: int) -> str:
    return f"{submitted} of {plural(asked, 'Marac')} sent figures."


def no_figures(place: PlaceInfo, period_text: str) -> str:
    return f"No figures have been sent for {place_name(place)}, {period_text}."


def blank_note(blank: int, meetings: int) -> str:
    """How many meetings left a figure blank (blank means not collected, never 0)."""
    if not blank:
        return ""
    return f" (left blank at {blank} of {plural(meetings, 'meeting')}, which are not counted)"


def cases_line(cases: int, meetings: int, blank: int) -> str:
    return (f"{METRIC_LABELS['cases']}: {cases:,} at {plural(meetings, 'meeting')}"
            f"{blank_note(blank, meetings)}.")


def total_line(key: str, total: int, blank: int, meetings: int) -> str:
    return f"{METRIC_LABELS[key]}: {total:,}{blank_note(blank, meetings)}."


def rate_line(key: str, rate: Rate, meetings: int) -> str:
    label = METRIC_LABELS[key]
    if rate.value is None:
        return f"{label}: not known (left blank at every meeting)."
    share = percent(rate.value)
    line = (f"{label}: {share} of cases ({rate.count:,} of {rate.of_cases:,})"
            f"{blank_note(rate.blank_meetings, meetings)}.")
    if isinstance(rate, _figures.RepeatRate):
        line += (f" Usual range {percent(rate.low)}–{percent(rate.high)}: "
                 f"{_Q_POSITIONS[rate.position]}.")
    elif isinstance(rate, _figures.PoliceShare):
        line += f" Usual maximum {percent(rate.high)}: {_Q_POSITIONS[rate.position]}."
    national = rate.national if isinstance(rate, _figures.RepeatRate | _figures.Share) else None
    if national is not None:
        line += f" National {percent(national)}."
    return line


_Q_POSITIONS: dict[str | None, str] = {
    "within": "within it", "below": "below it", "above": "above it"
}


def partner_line(partner: PartnerShare, meetings: int) -> str:
    label = METRIC_LABELS["partner_share"]
    if partner.value is None:
        return f"{label}: not known (police referrals left blank at every meeting)."
    return (f"{label}: {percent(partner.value)} of cases"
            f"{blank_note(partner.blank_meetings, meetings)}. "
            f"National {percent(partner.national)}.")


def per_10k_line(volume: Per10k, place: str) -> str:
    label = METRIC_LABELS["per_10k"]
    if volume.value is None:
        return f"{label}: not known (no adult female population is recorded for {place})."
    line = (f"{label}: {volume.value:.1f} a year ({volume.annual_cases:,.0f} cases a year, "
            f"annualised from the quarters sent, over {volume.population:,} adult women")
    if volume.maracs_without_population:
        line += (f"; {plural(volume.maracs_without_population, 'Marac')} without a population "
                 "figure left out")
    expected, national = _q_num(volume.expected), _q_num(volume.national)
    return line + f"). Expected {expected}; national {national}."


def fte_line(key: str, fte: Fte) -> str:
    label = METRIC_LABELS[key]
    if fte.actual is None:
        return f"{label}: not known."
    line = (f"{label}: {fte.actual:.1f} FTE for {fte.annual_cases:,.0f} cases a year "
            f"(one FTE per {_q_num(fte.cases_per_fte)})")
    if fte.expected is not None:
        line += (f"; {fte.expected:.1f} FTE for the {fte.expected_cases:,.0f} expected "
                 "for the population")
    return line + "."


def few_cases_note(minimum: int) -> str:
    return f"Fewer than {minimum} cases: read the rates with care."


# --- the upload grid -------------------------------------------------------------------------

GRID_STATE_LABELS: dict[str, str] = {
    "accepted": "accepted",
    "held": "held",
    "missing": "missing",
    "overdue": "overdue",
    "not-due": "not due",
}
GRID_MARAC_HEADING = "Marac"
GRID_CSV_HEADINGS = ("Marac", "Region", "Police force area")
GRID_EMPTY = "No Maracs to show."
GRID_KEY = (
    "Key: held = figures stored, changed figures waiting for confirmation; missing = not sent "
    "yet, not yet overdue; not due = the quarter has not ended."
)


def grid_title(area: str | None, year: str, year_range: str, as_of: Any) -> str:
    return f"Upload grid, {area or 'all Maracs'}, {year} ({year_range}), as at {day_text(as_of)}"


def grid_quarter_line(quarter: dict[str, Any]) -> str:
    return (f"{quarter['label'].split()[0]}: {quarter['range']}, due by "
            f"{_q_day(quarter['due'])}")


def grid_tally(maracs: int, counts: dict[str, int]) -> str:
    parts = [f"{n} {GRID_STATE_LABELS[state]}" for state, n in counts.items() if n]
    return f"{plural(maracs, 'Marac')}: {', '.join(parts) or 'nothing to show'}."


def grid_cell_label(state: str, meetings: int) -> str:
    """A grid image cell's words (the colour says it too): "✓ 6" is 6 meetings accepted."""
    if state == "accepted":
        return f"✓ {meetings}"
    if state == "held":
        return f"held ({meetings})"
    return "" if state == "not-due" else GRID_STATE_LABELS[state]


def _q_slug(text: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in text.lower()).split())


def grid_filename(area: str | None, year: str) -> str:
    return f"upload-grid-{_q_slug(area or 'all maracs')}-{_q_slug(year)}.png"


def template_filename(marac: str | None) -> str:
    return f"marac-data-template-{_q_slug(marac)}.xlsx" if marac else "marac-data-template.xlsx"


def template_answer(marac: str | None, edition: str) -> str:
    who = f" for {marac}" if marac else ""
    return (f"Here is a blank data template{who} ({edition} edition), attached. One row per "
            "meeting; leave a count blank only if it was not collected.")


# --- how to send a return, first contact --------------------------------------------------


def how_to_welcome(maracs: Sequence[str]) -> str:
    if not maracs:
        return "Welcome! I am the Marac data assistant."
    return f"Welcome! I am the Marac data assistant; you are registered for {_and(maracs)}."


def how_to_send(mailbox: str) -> str:
    return (
        "How to send your Marac data: fill in the attached template, one row per Marac meeting "
        "(its date and the counts; leave a count blank only if it was not collected, 0 means "
        f"none), and email it to {mailbox} as an attachment, or post it to me in chat. I check "
        "every cell and reply within a minute with what was recorded and anything to fix."
    )


def next_return_line(period: QuarterInfo) -> str:
    due = day_text(period.due)
    if period.overdue:
        return f"The return due now is {quarter_text(period)}: it was due by {due}."
    if not period.ended:
        return (f"The next return is {quarter_text(period)}, due by {due} (the quarter is "
                "still running: send it once its meetings are held).")
    return f"The return due now is {quarter_text(period)}, due by {due}."


def how_to_templates(maracs: Sequence[str], count: int) -> str:
    if not maracs:
        return "A blank template is attached."
    if count == 1:
        return f"Attached: a blank template for {maracs[0]}, with the Marac's name filled in."
    return (f"Attached: a blank template for each of your Maracs ({_and(maracs)}), with the "
            "name filled in.")


def no_attachment_text(mailbox: str, *, by_email: bool) -> str:
    """A message that says a file is attached, with none: the file was forgotten."""
    what = "Your email had no attachment" if by_email else "Your message came without a file"
    where = f"reply to this email, or send it to {mailbox}," if by_email else "post it here"
    return (
        f"{what}, so there was nothing for me to check and nothing has been recorded. Please "
        f"{where} with the filled-in template attached (.xlsx, .xlsm, .xls, .ods or .csv). "
        "A blank template is attached in case you need one."
    )


# --- not answered ----------------------------------------------------------------------------


def unknown_name_text(name: str, suggestions: Sequence[str]) -> str:
    """ "I don't know a Marac or area called Glasgow.": the name as written."""
    hint = did_you_mean(suggestions) or (
        " Ask about a Marac by its name, or about a region, a police force area or a nation."
    )
    return f"I don't know a Marac or area called {_name_said(name)}.{hint}"


def unknown_place_note(name: str) -> str:
    """Beneath an answer about "Croydon and Narnia": the place it could not include."""
    return f"I don't know a Marac or area called {_name_said(name)}."


def _name_said(name: str) -> str:
    """A name as written, unquoted unless it is long or odd (then cut and quoted, as every
    echo is)."""
    return name if len(name) <= 40 and re.fullmatch(r"[\w][\w .'&-]*", name) else echoed(name)


def no_maracs_in_text(area: str) -> str:
    return (f"There are no Maracs registered in {area}, so there is nothing to show. Ask about "
            "a Marac, a region, a police force area or a nation that has Maracs.")


def taken_as_note(said: str, name: str) -> str:
    return f"(taking {echoed(said)} as {name})"


def several_names_text(names: Sequence[str], kind: str) -> str:
    return f"Please ask about one {kind} at a time (you named {' and '.join(names)})."


def unclear_period_text(phrase: str, *, example: str | None = None) -> str:
    """``example``: a Marac to show the status question with (the one asked about, or the
    asker's own); without one, the question is described."""
    if re.fullmatch(r"Q[1-4](?: and Q[1-4])+", phrase):  # "who is missing both Q2 and Q3?"
        status = f"(\"status {example}\")" if example else "(\"status\" and the Marac's name)"
        return (f"Please ask about one quarter at a time (you named {phrase}). For every "
                f"quarter of a year, ask for a Marac's status {status}; for the Maracs "
                "that missed two quarters running, \"who has missed two quarters in a row?\".")
    if re.search(r"\b(?:quarters|months|rolling)\b", phrase):  # "the last four quarters"
        return (f"I answer for one quarter or one financial year, not {echoed(phrase)}. Please "
                "ask for a year like 2024/25 or this year, or a quarter like Q3 2024/25.")
    if re.search(r"\d ?/ ?-?\d", phrase):  # "-1/0", "2024/26": written as a year, and none
        return (f"{echoed(phrase)} is not a financial year I can answer for. Please write it "
                "like 2024/25, or a quarter like Q3 2024/25, Oct-Dec 2024 or last quarter.")
    return (f"I could not tell which quarter {echoed(phrase)} means. Please write it like "
            "Q3 2024/25, Oct-Dec 2024 or last quarter.")


def _q_scope_text(scope: ScopeInfo | None) -> str:
    if scope is not None and scope.everything:
        return "every Marac"
    names = [*scope.scopes, *scope.own] if scope is not None else []
    return ", ".join(names) if names else "no Marac"


def question_refusal(
    reason: str,
    *,
    scope: ScopeInfo | None = None,
    marac: str | None = None,
    area: str | None = None,
) -> str:
    """Why a question was refused (spec §6: who may ask about what)."""
    if reason == "not-registered":
        return ("You are not registered with the Marac data team, so I cannot answer questions "
                "about Marac data. Please ask the data team to add you.")
    role = scope.role if scope is not None else None
    if reason == "no-maracs":
        return (f"You are registered as a {role if role is not None else 'contact'} but for no "
                "Marac, so there is nothing I can show you. Please ask the data team.")
    allowed = _q_scope_text(scope)
    subject = marac or area or "that"
    if role == "manager":
        return f"{subject} is outside your scope ({allowed}), so I cannot answer that."
    return (f"You can ask about your own Maracs ({allowed}); {subject} is not one of them, so I "
            "cannot answer that.")
