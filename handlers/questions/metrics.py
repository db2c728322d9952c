"""The figures a question can ask for (spec §5), each with the words that ask for it.

First match wins, so the specific come before the general ("cases with children" before
"children", "repeat cases" before "cases"). ``field`` is the count column a share or total is
taken from; derived figures have none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Metric:
    key: str
    kind: str  # "total" (a sum) | "share" (a sum over cases) | "derived" | "all"
    field: str | None
    pattern: re.Pattern[str]


def _m(key: str, kind: str, field: str | None, pattern: str) -> Metric:
    return Metric(key, kind, field, re.compile(pattern))


METRICS: tuple[Metric, ...] = (
    _m("cases_with_children", "total", "cases_with_children",
       r"\b(?:cases|households|families) with (?:child|kid)"),
    _m("children", "total", "children", r"\bchild(?:ren)?\b|\bkids\b"),
    _m("repeat_rate", "share", "repeat_cases", r"\brepeat"),
    _m("partner_share", "derived", None,
       r"\bpartner|\bnon[- ]?police\b|\bother agenc|\bagenc(?:y|ies)\b"),
    _m("police_share", "share", "ref_police", r"\bpolice\b"),
    _m("per_10k", "derived", None,
       r"\bper (?:10,?000|10k|ten thousand)|\bper (?:head|capita)\b|\bprevalence\b"
       r"|\bpopulation\b|\brate per\b|\bexpected volume\b"),
    _m("idva_fte", "derived", None, r"\bidvas?\b|\bidaas?\b"),
    _m("admin_fte", "derived", None, r"\badmin(?:istrator)?s?\b|\bcoordinator (?:fte|capacity)"),
    _m("minoritised", "share", "minoritised",
       r"\bminoriti[sz]ed\b|\bbame\b|\bbme\b|\bethnic|\bblack\b|\basian\b"),
    _m("lgbtq", "share", "lgbtq", r"\blgbt|\bgay\b|\blesbian\b|\btrans\b"),
    _m("disabled", "share", "disabled", r"\bdisab"),
    _m("aged_16_17", "share", "aged_16_17",
       r"\b16 ?(?:or|and|-|to|/) ?17\b|\bsixteen|\b16 year"),
    _m("aged_65_plus", "share", "aged_65_plus",
       r"\b65 ?\+|\b65 (?:and|or) (?:over|older)|\bover 65|\bolder (?:people|victims)|\belderly"),
    _m("harming_under_18", "share", "harming_under_18",
       r"\bunder[- ]18|\bharming others\b|\bharm(?:ing|ers?)? (?:aged )?under"),
    _m("male", "share", "male", r"\bmales?\b|\bmen\b"),
    _m("meetings", "total", None, r"\bmeetings?\b"),
    _m("cases", "total", "cases",
       r"\bcases\b|\bvolumes?\b|\breferrals\b|\bhow many\b|\bhow busy\b|\bdiscuss"),
    _m("all", "all", None,
       r"\bfigures\b|\bstats\b|\bstatistics\b|\bnumbers\b|\bkey figures\b|\bbreakdown\b"),
)

METRIC_BY_KEY: dict[str, Metric] = {m.key: m for m in METRICS}


def find_metric(text: str) -> str | None:
    """The key of the first figure ``text`` asks for, or None."""
    return next((m.key for m in METRICS if m.pattern.search(text)), None)

# What the whole picture ("national picture", "summary", "Leeds figures") shows besides cases.
ALL_FIELDS: tuple[str, ...] = ("repeat_cases", "ref_police", "children", "cases_with_children")


def fields_for(metric: str) -> tuple[str, ...]:
    """The count fields a metric needs summed, besides cases."""
    if metric == "all":
        return ALL_FIELDS
    if metric == "partner_share":
        return ("ref_police",)
    found = METRIC_BY_KEY[metric].field
    return (found,) if found and found != "cases" else ()
