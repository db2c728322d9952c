"""Quarter-level soft checks against the reference bands of spec §5.

"Rules for a quarter are about everything accepted for that Marac and quarter after this file":
the stored meetings of the quarter, with this file's accepted rows taking the place of any
stored figures for the same meetings. A held row (changed figures waiting for confirmation) is
not accepted: its meeting keeps its stored figures.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from datetime import date

from kernel.quarters import Quarter
from validation.checks.base import RowView, file_check
from validation.context import ValidationContext
from validation.issues import Issue

Counts = Mapping[str, int | None]


@file_check("unusual-repeat-rate", "unusual-police-share", "unusual-volume",
            needs=("registry", "stored"))
def check_quarter_bands(rows: list[RowView], context: ValidationContext) -> Iterator[Issue]:
    registry = context.registry
    if registry is None or context.stored is None or registry.is_empty():
        return
    for (name, quarter), group in _by_marac_quarter(rows).items():
        meetings = _quarter_after_file(name, quarter, group, context)
        sheet = group[0].layout.sheet.name
        yield from _rate_issues(name, quarter, meetings, sheet, context)
        info = registry.resolve(name)
        if info is not None and info.adult_female_population:
            yield from _volume_issue(name, quarter, meetings, info.adult_female_population,
                                     sheet, context)


def _by_marac_quarter(rows: list[RowView]) -> dict[tuple[str, Quarter], list[RowView]]:
    groups: dict[tuple[str, Quarter], list[RowView]] = defaultdict(list)
    for row in rows:
        quarter = row.parsed.quarter
        if row.parsed.marac and quarter and not row.parsed.hard and not row.parsed.held:
            groups[(row.parsed.marac, quarter)].append(row)
    return groups


def _quarter_after_file(name: str, quarter: Quarter, group: list[RowView],
                        context: ValidationContext) -> list[Counts]:
    assert context.stored is not None
    from_file: dict[date, Counts] = {
        r.parsed.meeting_date: r.parsed.counts for r in group if r.parsed.meeting_date
    }
    stored = [m for m in context.stored.quarter_totals(name, quarter)
              if m.get("meeting_date") not in from_file]
    return [*stored, *from_file.values()]


def _total(meetings: list[Counts], key: str, *, where: str = "cases") -> tuple[int, int]:
    """Sum of ``key`` and of ``where`` over meetings where both are filled (blank ≠ 0)."""
    pairs = [(m.get(key), m.get(where)) for m in meetings]
    filled = [(a, b) for a, b in pairs if a is not None and b is not None]
    return sum(a for a, _ in filled), sum(b for _, b in filled)


def _rate_issues(name: str, quarter: Quarter, meetings: list[Counts], sheet: str,
                 context: ValidationContext) -> Iterator[Issue]:
    bands = context.bands
    repeats, cases = _total(meetings, "repeat_cases")
    if cases >= bands.min_cases_for_rates:
        rate = repeats / cases
        # Compared as shown (whole per cent): 27.6% reads "28%", inside a band from 28%.
        if not _pct(bands.repeat_rate_low) <= _pct(rate) <= _pct(bands.repeat_rate_high):
            yield Issue.make("unusual-repeat-rate", sheet=sheet, value=f"{rate:.0%}", marac=name,
                             quarter=quarter.describe(), rate=f"{rate:.0%}",
                             low=f"{bands.repeat_rate_low:.0%}",
                             high=f"{bands.repeat_rate_high:.0%}")
    police, cases = _total(meetings, "ref_police")
    if cases >= bands.min_cases_for_rates and _pct(police / cases) > _pct(bands.police_share_high):
        share = police / cases
        yield Issue.make("unusual-police-share", sheet=sheet, value=f"{share:.0%}", marac=name,
                         quarter=quarter.describe(), rate=f"{share:.0%}",
                         high=f"{bands.police_share_high:.0%}")


def _pct(share: float) -> int:
    """A share as the whole per cent it is shown as: the very text the message shows."""
    return int(f"{share:.0%}".removesuffix("%"))


def _volume_issue(name: str, quarter: Quarter, meetings: list[Counts], population: int,
                  sheet: str, context: ValidationContext) -> Iterator[Issue]:
    bands = context.bands
    expected = population / 10_000 * bands.expected_cases_per_10k / 4
    cases = sum(c for m in meetings if (c := m.get("cases")) is not None)
    quarter_over = context.today > quarter.end
    if cases > expected * bands.volume_high_fraction:
        comparison = "well above"
    elif quarter_over and cases < expected * bands.volume_low_fraction:
        comparison = "well below"
    else:
        return
    yield Issue.make("unusual-volume", sheet=sheet, value=cases, marac=name,
                     quarter=quarter.describe(), cases=cases, comparison=comparison,
                     expected=round(expected))
