"""'how many cases did Leeds discuss in 2023/24?', 'repeat rate for Leeds Q1', 'children in
Kent Q4': a figure of spec §5 for a Marac, an area or the asker's scope, over a quarter or a
financial year; 'national picture 2024/25' and 'summary Q3' are every figure at once."""

from __future__ import annotations

from handlers.questions.context import Ask, Place, place_of, quarter_of, unclear_period
from handlers.questions.figures import figures
from handlers.questions.metrics import fields_for
from handlers.questions.model import Finding
from handlers.questions.period import quarter_info, year_info
from handlers.questions.sums import marac_sums
from kernel.answers import Figure, FigurePeriod, Figures, Summary
from kernel.national_rule import RuleNote
from kernel.quarters import Quarter

INTENT = "figure"
SUMMARY = "summary"


def answer(ask: Ask) -> Finding:
    return _answer(ask, INTENT, ask.entities.metric or "all")


def summary(ask: Ask) -> Finding:
    return _answer(ask, SUMMARY, "all")


def _answer(ask: Ask, intent: str, metric: str) -> Finding:
    if (unclear := unclear_period(ask, intent)) is not None:
        return unclear
    place = place_of(ask, intent, need_marac=False)
    if not isinstance(place, Place):
        return place
    kind = Summary if intent == SUMMARY else Figure
    period = _period(ask)
    found, rule = _figures(ask, place, metric, period.quarters)
    answer = kind(metric, place.info(), ask.scope.info(), period, found, rule=rule)
    return Finding(intent, True, answer)


def _figures(ask: Ask, place: Place, metric: str, quarters: tuple[str, ...]
             ) -> tuple[Figures, RuleNote | None]:
    every = ask.scope.everything and place.area is None and place.marac is None
    fields = fields_for(metric)
    if place.marac is None:  # several Maracs: the national rule, as in report national
        return _national(ask, place, fields, quarters, every_marac=every)
    sums = marac_sums(ask.session, quarters, None if every else place.marac_ids, fields=fields)
    by_id = {m.id: m for m in place.maracs}
    return figures(sums, by_id, ask.settings.bands, fields=fields), None


def _national(ask: Ask, place: Place, fields: tuple[str, ...], quarters: tuple[str, ...], *,
              every_marac: bool) -> tuple[Figures, RuleNote]:
    from handlers.national import national_period  # it imports this package: load when used

    wanted = [Quarter.from_label(label) for label in quarters]
    period = national_period(ask.session, place.maracs, wanted, ask.settings.bands,
                             fields=fields, today=ask.today, due_days=ask.due_days,
                             every_marac=every_marac)
    if period.figures is None:  # not started: nothing sent, nothing counted
        empty = figures([], {m.id: m for m in place.maracs}, ask.settings.bands, fields=fields)
        return empty, period.note()
    return period.figures, period.note()


def _period(ask: Ask) -> FigurePeriod:
    """The quarter or the financial year asked about (the last quarter that ended if none)."""
    e = ask.entities
    if e.year is not None and e.quarter is None:
        return FigurePeriod(year_info(e.year), defaulted=False,
                            quarters=tuple(q.label for q in e.year.quarters))
    quarter, defaulted = quarter_of(ask)
    info = quarter_info(quarter, today=ask.today, due_days=ask.due_days)
    return FigurePeriod(info, defaulted=defaulted, quarters=(quarter.label,))
