"""The derived figures of spec §5, from a period's sums, against the configured bands and the
national reference. Every figure is data (a JSON-ready dict); reports/answers.py words it.

Rates are taken over the meetings that filled in both figures; each says how many meetings
were blank. Cases per 10,000 adult women are annualised per Marac (a Marac's cases × 4 ÷ the
quarters it sent), over the Maracs whose population is known.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from handlers.questions.registry import MaracEntry
from handlers.questions.sums import Sums, add_up
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
) -> dict[str, Any]:
    """The §5 figures of these Maracs' sums (``maracs``: the Maracs asked about, by id) for
    cases and ``fields`` (the fields the sums were taken of)."""
    total = add_up(per_marac)
    data: dict[str, Any] = {
        "maracs_asked": len(maracs),
        "maracs_submitted": len(per_marac),
        "meetings": total.meetings,
        "cases": _total(total, "cases"),
        "few_cases": total.cases.total < bands.min_cases_for_rates,
        "min_cases_for_rates": bands.min_cases_for_rates,
    }
    for key in fields:
        data.update(_field(total, key, bands))
    data.update(_volume(per_marac, maracs, bands))
    return data


def _field(total: Sums, key: str, bands: Bands) -> dict[str, Any]:
    """The figure (or figures) one summed field gives."""
    if key in ("children", "cases_with_children"):
        return {key: _total(total, key)}
    if key == "repeat_cases":
        low, high = bands.repeat_rate_low, bands.repeat_rate_high
        rate = _rate(total, key) | {"low": low, "high": high,
                                    "national": bands.national_repeat_rate}
        return {"repeat_rate": rate | {"position": _position(rate["value"], low, high)}}
    if key == "ref_police":
        police = _rate(total, key) | {"high": bands.police_share_high}
        police["position"] = _position(police["value"], None, bands.police_share_high)
        return {"police_share": police, "partner_share": _partner(police, bands)}
    national = getattr(bands, _NATIONAL_SHARES[key]) if key in _NATIONAL_SHARES else None
    return {key: _rate(total, key) | {"national": national}}


def _total(sums: Sums, key: str) -> dict[str, Any]:
    return {"total": sums.of(key).total, "blank_meetings": sums.blank(key)}


def _rate(sums: Sums, key: str) -> dict[str, Any]:
    part = sums.of(key)
    return {
        "value": part.total / part.cases if part.cases else None,
        "count": part.total,
        "of_cases": part.cases,
        "blank_meetings": sums.blank(key),
    }


def _position(value: float | None, low: float | None, high: float | None) -> str | None:
    if value is None:
        return None
    if low is not None and value < low:
        return "below"
    if high is not None and value > high:
        return "above"
    return "within"


def _partner(police: dict[str, Any], bands: Bands) -> dict[str, Any]:
    value = None if police["value"] is None else 1 - police["value"]
    return {
        "value": value,
        "blank_meetings": police["blank_meetings"],
        "national": bands.national_partner_share,
    }


def _volume(
    per_marac: Sequence[Sums], maracs: Mapping[int, MaracEntry], bands: Bands
) -> dict[str, Any]:
    """Cases per 10,000 adult women a year, and the Idva and administrator capacity they call
    for, next to what the expected volume would call for."""
    annual_all, annual, population, unknown = 0.0, 0.0, 0, 0
    for sums in per_marac:
        if not sums.quarters:
            continue
        yearly = sums.cases.total * 4 / sums.quarters
        annual_all += yearly
        entry = maracs.get(sums.marac_id or -1)
        if entry is None or not entry.population:
            unknown += 1
            continue
        annual += yearly
        population += entry.population
    rate = annual / population * 10_000 if population else None
    expected = population * bands.expected_cases_per_10k / 10_000 if population else None
    submitted = annual_all if per_marac else None
    return {
        "per_10k": {
            "value": rate,
            "annual_cases": annual if population else None,
            "population": population or None,
            "maracs_without_population": unknown,
            "expected": bands.expected_cases_per_10k,
            "national": bands.national_cases_per_10k,
        },
        "annual_cases": submitted,
        "expected_annual_cases": expected,
        "idva_fte": _fte(submitted, expected, bands.idva_cases_per_fte),
        "admin_fte": _fte(submitted, expected, bands.admin_cases_per_fte),
    }


def _fte(annual: float | None, expected: float | None, per_fte: float) -> dict[str, Any]:
    return {
        "actual": None if annual is None else annual / per_fte,
        "expected": None if expected is None else expected / per_fte,
        "annual_cases": annual,
        "expected_cases": expected,
        "cases_per_fte": per_fte,
    }
