"""Answers to dashboard questions, rendered as plain text for the command line and email from
their typed values (kernel/answers, built by handlers/questions). Each kind of answer has its
own function over the same value, so Slack blocks or Teams cards can be written beside these
later without a new query.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import assert_never

from kernel import wording
from kernel.answers import (
    Count,
    Figure,
    Figures,
    FigureValue,
    Fte,
    HasUploaded,
    Help,
    HelpTopic,
    HowTo,
    Json,
    Meaning,
    Missing,
    NeedMarac,
    NoMaracsIn,
    PartnerShare,
    Per10k,
    PlaceInfo,
    Problem,
    Rate,
    Refusal,
    SeveralAreas,
    SeveralMaracs,
    Status,
    Summary,
    Template,
    UnclearPeriod,
    UnknownName,
)
from reports import grid as grid_report
from reports.history_answers import ExportAnswer, HistoryAnswer


@dataclass(frozen=True)
class GridAnswer:
    """'grid London 2024/25': the upload grid (reports/grid.py) of an area or of the asker's
    scope. It lives here, beside the grid, where kernel/answers holds the other answers."""

    place: PlaceInfo
    year: str  # "2024/25"
    grid: grid_report.Grid

    def to_dict(self) -> Json:
        return {"place": self.place.to_dict(), "year": self.year, "grid": self.grid.to_dict()}


# What a question handler finds: an answer of its kind, or why there is none.
Result = (
    HasUploaded | Missing | Status | Figure | GridAnswer | Template | HowTo | Help | Problem
    | HistoryAnswer | ExportAnswer | Meaning
)


def render_text(result: Result) -> str:
    """The text a person reads for a handler's result."""
    if isinstance(result, Problem):
        return _problem(result)
    match result:
        case HasUploaded():
            return _has_uploaded(result)
        case Missing():
            return _missing(result)
        case Status():
            return _status(result)
        case Summary():
            return _figures(result, summary=True)
        case Figure():
            return _figures(result, summary=False)
        case GridAnswer():
            return "\n".join([grid_report.to_text(result.grid), *_restricted(result.place)])
        case HistoryAnswer() | ExportAnswer():
            return result.text
        case Template():
            return wording.template_answer(result.marac, result.edition)
        case HowTo():
            return _how_to(result)
        case Meaning():
            return wording.meaning_text(result.metric, result.bands)
        case Help():
            return _help_answer(result)
        case _:
            assert_never(result)


def refusal_text(refusal: Refusal) -> str:
    """Why a question was refused, naming what the asker may ask about."""
    return wording.question_refusal(
        refusal.reason,
        scope=refusal.scope,
        marac=refusal.marac,
        area=wording.area_name(refusal.area) if refusal.area else None,
    )


def _problem(problem: Problem) -> str:
    match problem:
        case Refusal():
            return refusal_text(problem)
        case UnknownName():
            return wording.unknown_name_text(problem.name, problem.suggestions)
        case SeveralMaracs():
            return wording.several_names_text(problem.names, "Marac")
        case SeveralAreas():
            return wording.several_names_text(problem.names, "area")
        case UnclearPeriod():
            return wording.unclear_period_text(problem.phrase, example=problem.example)
        case NoMaracsIn():
            return wording.no_maracs_in_text(wording.area_name(problem.area))
        case NeedMarac():
            return wording.QUESTION_NEED_MARAC
        case _:
            assert_never(problem)


def _restricted(place: PlaceInfo) -> list[str]:
    """The line that says an answer was narrowed to the Maracs the asker may ask about."""
    return [wording.ANSWER_RESTRICTED] if place.restricted else []


def _how_to(how: HowTo) -> str:
    lines = [wording.how_to_welcome(how.maracs)] if how.welcome else []
    lines += [wording.how_to_send(how.mailbox), wording.next_return_line(how.next_return)]
    lines.append(wording.how_to_templates(how.maracs, len(how.templates)))
    return "\n\n".join(lines)


def _help_answer(help_: Help) -> str:
    if help_.understood:
        return _help(help_.topics)
    return f"{wording.QUESTION_NOT_UNDERSTOOD}\n\n{_help(help_.topics)}"


def _help(topics: tuple[HelpTopic, ...]) -> str:
    lines = [wording.QUESTION_HELP_INTRO]
    for topic in topics:
        examples = "; ".join(f'"{e}"' for e in topic.examples)
        lines.append(f"- {examples}: {wording.QUESTION_HELP_TOPICS[topic.intent]}")
    lines += ["", wording.QUESTION_HELP_PERIODS]
    return "\n".join(lines)


def _has_uploaded(answer: HasUploaded) -> str:
    period = answer.period
    if not answer.uploaded:
        lines = [wording.uploaded_no(answer.marac, period), wording.due_sentence(period)]
    else:
        lines = [wording.uploaded_yes(answer.marac, period, answer.meetings, answer.cases)]
        if answer.cases_blank_meetings:
            lines.append(wording.cases_blank_note(answer.cases_blank_meetings))
        if answer.received:
            lines.append(wording.received_line(answer.received))
        held = answer.held_changes
        lines += [wording.held_head(len(held)), *map(wording.held_line, held)] if held else [
            wording.HELD_NONE
        ]
        if answer.asked_due:  # what was asked, though it is sent
            lines.insert(1, wording.due_sent_sentence(period))
    if answer.quarter_defaulted:
        lines.append(wording.QUARTER_DEFAULTED)
    return "\n".join(lines)


def _missing(answer: Missing) -> str:
    """The list compact: one line per Marac, and what the lines share (the due date, what
    two quarters in a row means) said once beneath it."""
    period, place = answer.period, wording.place_name(answer.place)
    asked, missing, uploaded = answer.maracs_asked, answer.missing, answer.uploaded
    previous = answer.previous_quarter
    if answer.focus == "in-a-row":
        lines = [wording.in_a_row_head(place, period, previous, len(missing), asked)]
        lines += [wording.missing_line(d) for d in answer.details]
    else:
        if answer.focus == "uploaded":
            lines = [wording.uploaded_head(place, period, uploaded, asked)]
            if missing and uploaded:
                lines.append(wording.not_yet_heading(len(missing)))
        else:
            lines = [wording.missing_head(place, period, len(missing), uploaded, asked)]
        lines += [wording.missing_line(d, previous) for d in answer.details]
        twice = [d.marac for d in answer.details if d.missed_previous]
        if twice and period.ended:
            lines.append(wording.in_a_row_note(twice, previous))
    if missing:
        lines.append(wording.due_sentence(period, many=len(missing) > 1))
    lines += _restricted(answer.place)
    if answer.quarter_defaulted:
        lines.append(wording.QUARTER_DEFAULTED)
    return "\n".join(lines)


def _status(answer: Status) -> str:
    lines = [wording.status_head(answer.marac, answer.year)]
    lines += [wording.status_line(q) for q in answer.quarters]
    lines.append(wording.status_total(answer.meetings, answer.cases))
    if answer.year_defaulted:
        lines.append(wording.YEAR_DEFAULTED)
    return "\n".join(lines)


def _figures(answer: Figure, *, summary: bool) -> str:
    place = wording.place_name(answer.place)
    period_text = wording.quarter_text(answer.period.span)
    figures = answer.figures
    if not figures.meetings and (answer.rule is None or not answer.rule.sent):
        lines = [wording.no_figures(answer.place, period_text)]
        if answer.rule is not None and answer.rule.left_out:
            lines.append(wording.national_rule_line(answer.rule))
    else:
        lines = [wording.figure_head(answer.place, period_text, summary=summary)]
        if not answer.place.marac:
            lines.append(wording.submitted_line(figures.maracs_submitted, figures.maracs_asked))
        if answer.rule is not None:
            lines.append(wording.national_rule_line(answer.rule))
        lines += _metric_lines(answer.metric, figures, place)
        if figures.few_cases and answer.metric not in ("cases", "meetings"):
            lines.append(wording.few_cases_note(figures.min_cases_for_rates))
    lines += _restricted(answer.place)
    if answer.period.defaulted:
        lines.append(wording.QUARTER_DEFAULTED)
    return "\n".join(lines)


_ALL = ("cases", "per_10k", "repeat_rate", "police_share", "partner_share", "children",
        "cases_with_children", "idva_fte", "admin_fte")


def _metric_lines(metric: str, figures: Figures, place: str) -> list[str]:
    """The asked figure after the cases it is out of; every figure for the whole picture."""
    if metric == "all":
        keys: tuple[str, ...] = _ALL
    else:
        keys = ("cases",) if metric in ("cases", "meetings") else ("cases", metric)
    return [_metric_line(key, found, figures.meetings, place)
            for key in keys if (found := figures.of(key)) is not None]


def _metric_line(key: str, figure: FigureValue, meetings: int, place: str) -> str:
    match figure:
        case Count() if key == "cases":
            return wording.cases_line(figure.total, meetings, figure.blank_meetings)
        case Count():
            return wording.total_line(key, figure.total, figure.blank_meetings, meetings)
        case PartnerShare():
            return wording.partner_line(figure, meetings)
        case Per10k():
            return wording.per_10k_line(figure, place)
        case Fte():
            return wording.fte_line(key, figure)
        case Rate():
            return wording.rate_line(key, figure, meetings)
        case _:
            assert_never(figure)
