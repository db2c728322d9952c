"""Answers to dashboard questions, rendered from their data (handlers/questions) as plain text
for the command line and email. Each intent has its own function over the same JSON-ready
data, so Slack blocks or Teams cards can be written beside these later without a new query.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kernel import wording
from reports import grid as grid_report

Data = dict[str, Any]


def render_text(intent: str, data: Data) -> str:
    """The text a person reads for a finding's data."""
    if "problem" in data:
        return _problem(data)
    return _RENDERERS[intent](data)


def refusal_text(reason: str, data: Data) -> str:
    """Why a question was refused, naming what the asker may ask about."""
    area = data.get("area")
    return wording.question_refusal(
        reason,
        scope=data.get("scope"),
        marac=data.get("marac"),
        area=wording.place_name({"area": area}) if area else None,
    )


def _problem(data: Data) -> str:
    kind = data["problem"]
    if kind == "refused":
        return refusal_text(data["reason"], data)
    if kind == "not-understood":
        return f"{wording.QUESTION_NOT_UNDERSTOOD}\n\n{_help(data)}"
    if kind == "unknown-name":
        return wording.unknown_name_text(data["name"], data["suggestions"])
    if kind == "several-maracs":
        return wording.several_names_text(data["names"], "Marac")
    if kind == "several-areas":
        return wording.several_names_text(data["names"], "area")
    if kind == "unclear-period":
        return wording.unclear_period_text(data["phrase"])
    if kind == "need-marac":
        return wording.QUESTION_NEED_MARAC
    raise ValueError(f"no wording for problem {kind!r}")


def _help(data: Data) -> str:
    lines = [wording.QUESTION_HELP_INTRO]
    for topic in data["topics"]:
        examples = "; ".join(f'"{e}"' for e in topic["examples"])
        lines.append(f"- {examples}: {wording.QUESTION_HELP_TOPICS[topic['intent']]}")
    lines += ["", wording.QUESTION_HELP_PERIODS]
    return "\n".join(lines)


def _has_uploaded(data: Data) -> str:
    period = data["period"]
    if not data["uploaded"]:
        lines = [wording.uploaded_no(data["marac"], period), wording.due_sentence(period)]
    else:
        lines = [wording.uploaded_yes(data["marac"], period, data["meetings"], data["cases"])]
        if data["cases_blank_meetings"]:
            lines.append(wording.cases_blank_note(data["cases_blank_meetings"]))
        if data["received"]:
            lines.append(wording.received_line(data["received"]))
        held = data["held_changes"]
        lines += [wording.held_head(len(held)), *map(wording.held_line, held)] if held else [
            wording.HELD_NONE
        ]
    if data["quarter_defaulted"]:
        lines.append(wording.QUARTER_DEFAULTED)
    return "\n".join(lines)


def _missing(data: Data) -> str:
    period, place = data["period"], wording.place_name(data["place"])
    asked, missing = data["maracs_asked"], data["missing"]
    if data["focus"] == "uploaded":
        lines = [wording.uploaded_head(place, period, data["uploaded"], asked)]
        if missing and data["uploaded"]:
            lines.append(wording.not_yet_heading(len(missing)))
    else:
        lines = [wording.missing_head(place, period, len(missing), data["uploaded"], asked)]
    lines += [wording.missing_line(d, data["previous_quarter"], ended=period["ended"])
              for d in data["details"]]
    if missing:
        lines.append(wording.due_sentence(period, many=len(missing) > 1))
    if data["place"]["restricted"]:
        lines.append(wording.ANSWER_RESTRICTED)
    if data["quarter_defaulted"]:
        lines.append(wording.QUARTER_DEFAULTED)
    return "\n".join(lines)


def _status(data: Data) -> str:
    lines = [wording.status_head(data["marac"], data["year"])]
    lines += [wording.status_line(q) for q in data["quarters"]]
    lines.append(wording.status_total(data["meetings"], data["cases"]))
    if data["year_defaulted"]:
        lines.append(wording.YEAR_DEFAULTED)
    return "\n".join(lines)


def _figure(data: Data) -> str:
    return _figures(data, summary=False)


def _summary(data: Data) -> str:
    return _figures(data, summary=True)


def _figures(data: Data, *, summary: bool) -> str:
    place = wording.place_name(data["place"])
    period = data["period"]
    period_text = wording.quarter_text(period)
    figures = data["figures"]
    if not figures["meetings"]:
        lines = [wording.no_figures(data["place"], period_text)]
    else:
        lines = [wording.figure_head(data["place"], period_text, summary=summary)]
        if not data["place"]["marac"]:
            lines.append(wording.submitted_line(figures["maracs_submitted"],
                                                figures["maracs_asked"]))
        lines += _metric_lines(data["metric"], figures, place)
        if figures["few_cases"] and data["metric"] not in ("cases", "meetings"):
            lines.append(wording.few_cases_note(figures["min_cases_for_rates"]))
    if data["place"]["restricted"]:
        lines.append(wording.ANSWER_RESTRICTED)
    if period.get("defaulted"):
        lines.append(wording.QUARTER_DEFAULTED)
    return "\n".join(lines)


_ALL = ("cases", "per_10k", "repeat_rate", "police_share", "partner_share", "children",
        "cases_with_children", "idva_fte", "admin_fte")


def _metric_lines(metric: str, figures: Data, place: str) -> list[str]:
    """The asked figure after the cases it is out of; every figure for the whole picture."""
    if metric == "all":
        keys: tuple[str, ...] = _ALL
    else:
        keys = ("cases",) if metric in ("cases", "meetings") else ("cases", metric)
    return [_metric_line(key, figures, place) for key in keys if key in figures]


def _metric_line(key: str, f: Data, place: str) -> str:
    meetings = f["meetings"]
    if key == "cases":
        return wording.cases_line(f["cases"]["total"], meetings, f["cases"]["blank_meetings"])
    if key in ("children", "cases_with_children"):
        return wording.total_line(key, f[key]["total"], f[key]["blank_meetings"], meetings)
    if key == "partner_share":
        return wording.partner_line(f[key], meetings)
    if key == "per_10k":
        return wording.per_10k_line(f[key], place)
    if key in ("idva_fte", "admin_fte"):
        return wording.fte_line(key, f[key])
    return wording.rate_line(key, f[key], meetings)


def _grid(data: Data) -> str:
    return grid_report.to_text(grid_report.Grid.from_dict(data["grid"]))


def _template(data: Data) -> str:
    return wording.template_answer(data["marac"], data["edition"])


def _help_answer(data: Data) -> str:
    return _help(data)


_RENDERERS: dict[str, Callable[[Data], str]] = {
    "has-uploaded": _has_uploaded,
    "missing": _missing,
    "status": _status,
    "figure": _figure,
    "summary": _summary,
    "grid": _grid,
    "template": _template,
    "help": _help_answer,
}
