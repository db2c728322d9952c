"""The derived figures of spec §5, from a period's sums, against the configured bands and the
national reference, as typed values (kernel/answers/figures.py); reports/answers.py words them.

Rates are taken over the meetings that filled in both figures; each says how many meetings
were blank. Cases per 10,000 adult women are annualised per Marac (a Marac's cases × 4 ÷ the
quarters it sent), over the Maracs whose population is known.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from handlers.questions.registry import MaracEntry
from handlers.questions.sums import Sums, Totals, add_up, sums_of
from kernel.answers import (
    Count,
    FieldFigure,
    Figures,
    Fte,
    PartnerShare,
    Per10k,
    PoliceShare,
    RepeatRate,
    Share,
)
from kernel.config import Bands

# Shares of cases with a national reference in the settings, by field.
_NATIONAL_SHARES = {
    "minoritised": "national_minoritised_share",
    "lgbtq": "national_lgbtq_share",
    "disabled": "national_disabled_share",
    "male": "national_male_share",
    "aged_16_17": "national_aged_16_17_share",
}


def figures(
    per_marac: Sequence[Sums],
    maracs: Mapping[int, MaracEntry],
    bands: Bands,
    *,
    fields: Sequence[str],
) -> Figures:
    """The §5 figures of these Maracs' sums (``maracs``: the Maracs asked about, by id) for
    cases and ``fields`` (the fields the sums were taken of)."""
    volumes = [(s.marac_id, s.cases.total, s.quarters) for s in per_marac]
    return _figures(add_up(per_marac), volumes, maracs, bands, fields)


def figures_of_totals(
    per_marac: Mapping[int, Totals],
    maracs: Mapping[int, MaracEntry],
    bands: Bands,
    *,
    fields: Sequence[str],
) -> Figures:
    """``figures`` of each Marac's totals as plain tuples (handlers/questions/sums.py): the
    national rule's path, where building every Marac's sums field by field cost more than
    adding the tuples up column by column (issue 14)."""
    rows = list(per_marac.values())
    total = Sums(None)
    if rows:
        added = list(map(sum, zip(*rows, strict=True)))
        added[1] = max(row[1] for row in rows)  # quarters: the most any Marac sent, as add_up
        total = sums_of(None, added, fields)
    volumes = [(marac_id, row[2], row[1]) for marac_id, row in per_marac.items()]
    return _figures(total, volumes, maracs, bands, fields)


def _figures(
    total: Sums,
    volumes: Sequence[tuple[int | None, int, int]],
    maracs: Mapping[int, MaracEntry],
    bands: Bands,
    fields: Sequence[str],
) -> Figures:
    volume = _volume(volumes, maracs, bands)
    return Figures(
        maracs_asked=len(maracs),
        maracs_submitted=len(volumes),
        meetings=total.meetings,
        cases=_count(total, "cases"),
        few_cases=total.cases.total < bands.min_cases_for_rates,
        min_cases_for_rates=bands.min_cases_for_rates,
        fields=tuple(found for key in fields for found in _field(total, key, bands)),
        per_10k=volume.per_10k,
        annual_cases=volume.annual_cases,
        expected_annual_cases=volume.expected,
        idva_fte=_fte(volume.annual_cases, volume.expected, bands.idva_cases_per_fte),
        admin_fte=_fte(volume.annual_cases, volume.expected, bands.admin_cases_per_fte),
    )


def _field(total: Sums, key: str, bands: Bands) -> tuple[tuple[str, FieldFigure], ...]:
    """The figure (or figures) one summed field gives, by metric key."""
    if key in ("children", "cases_with_children"):
        return ((key, _count(total, key)),)
    rate = _rate(total, key)
    value = rate[0]
    if key == "repeat_cases":
        low, high = bands.repeat_rate_low, bands.repeat_rate_high
        return (("repeat_rate", RepeatRate(*rate, low=low, high=high,
                                           national=bands.national_repeat_rate,
                                           position=_position(value, low, high))),)
    if key == "ref_police":
        high = bands.police_share_high
        police = PoliceShare(*rate, high=high, position=_position(value, None, high))
        return (("police_share", police), ("partner_share", _partner(police, bands)))
    national = getattr(bands, _NATIONAL_SHARES[key]) if key in _NATIONAL_SHARES else None
    return ((key, Share(*rate, national=national)),)


def _count(sums: Sums, key: str) -> Count:
    return Count(total=sums.of(key).total, blank_meetings=sums.blank(key))


def _rate(sums: Sums, key: str) -> tuple[float | None, int, int, int]:
    """A share's value, count, cases it is out of, and blank meetings (Rate's fields)."""
    part = sums.of(key)
    return (part.total / part.cases if part.cases else None, part.total, part.cases,
            sums.blank(key))


def _position(value: float | None, low: float | None, high: float | None) -> str | None:
    if value is None:
        return None
    if low is not None and value < low:
        return "below"
    if high is not None and value > high:
        return "above"
    return "within"


def _partner(police: PoliceShare, bands: Bands) -> PartnerShare:
    value = None if police.value is None else 1 - police.value
    return PartnerShare(value=value, blank_meetings=police.blank_meetings,
                        national=bands.national_partner_share)


@dataclass(frozen=True)
class _Volume:
    per_10k: Per10k
    annual_cases: float | None  # every Marac that sent figures, annualised
    expected: float | None  # what the known population would be expected to bring


def _volume(per_marac: Sequence[tuple[int | None, int, int]], maracs: Mapping[int, MaracEntry],
            bands: Bands) -> _Volume:
    """Cases per 10,000 adult women a year, and the cases a year the capacity is worked out
    from, next to what the expected volume would call for. ``per_marac``: each Marac's id,
    cases and quarters sent."""
    annual_all, annual, population, unknown = 0.0, 0.0, 0, 0
    for marac_id, cases, quarters in per_marac:
        if not quarters:
            continue
        yearly = cases * 4 / quarters
        annual_all += yearly
        entry = maracs.get(marac_id or -1)
        if entry is None or not entry.population:
            unknown += 1
            continue
        annual += yearly
        population += entry.population
    per_10k = Per10k(
        value=annual / population * 10_000 if population else None,
        annual_cases=annual if population else None,
        population=population or None,
        maracs_without_population=unknown,
        expected=bands.expected_cases_per_10k,
        national=bands.national_cases_per_10k,
    )
    expected = population * bands.expected_cases_per_10k / 10_000 if population else None
    return _Volume(per_10k, annual_all if per_marac else None, expected)


def _fte(annual: float | None, expected: float | None, per_fte: float) -> Fte:
    return Fte(
        actual=None if annual is None else annual / per_fte,
        expected=None if expected is None else expected / per_fte,
        annual_cases=annual,
        expected_cases=expected,
        cases_per_fte=per_fte,
    )
