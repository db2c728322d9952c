"""Quarters and financial years (spec §2): value type behaviour and the loose phrasings."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.settings import Settings
from kernel.quarters import DEFAULT_DUE_DAYS, FinancialYear, Quarter

# A fixed "today" inside Q4 2024/25 for every phrasing that depends on it.
TODAY = date(2025, 2, 10)

quarters = st.builds(Quarter, st.integers(min_value=2, max_value=9997), st.integers(1, 4))
realistic_quarters = st.builds(Quarter, st.integers(2000, 2098), st.integers(1, 4))
days = st.dates(min_value=date(2, 4, 1), max_value=date(9998, 12, 31))


# --- labels, ranges, due dates ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "number", "label", "start", "end", "range_text"),
    [  # the table of spec §2, plus a century boundary
        (2024, 1, "Q1 2024/25", "2024-04-01", "2024-06-30", "1 Apr – 30 Jun 2024"),
        (2024, 2, "Q2 2024/25", "2024-07-01", "2024-09-30", "1 Jul – 30 Sep 2024"),
        (2024, 3, "Q3 2024/25", "2024-10-01", "2024-12-31", "1 Oct – 31 Dec 2024"),
        (2024, 4, "Q4 2024/25", "2025-01-01", "2025-03-31", "1 Jan – 31 Mar 2025"),
        (1999, 4, "Q4 1999/00", "2000-01-01", "2000-03-31", "1 Jan – 31 Mar 2000"),
    ],
)
def test_label_and_range(
    year: int, number: int, label: str, start: str, end: str, range_text: str
) -> None:
    quarter = Quarter(year, number)
    assert quarter.label == label
    assert str(quarter) == label
    assert (quarter.start, quarter.end) == (date.fromisoformat(start), date.fromisoformat(end))
    assert quarter.range_text() == range_text
    assert quarter.describe() == f"{label} ({range_text})"


def test_financial_year_basics() -> None:
    fy = FinancialYear(2024)
    assert fy.label == str(fy) == "2024/25"
    assert (fy.start, fy.end) == (date(2024, 4, 1), date(2025, 3, 31))
    assert [str(q) for q in fy.quarters] == [f"Q{n} 2024/25" for n in (1, 2, 3, 4)]
    assert fy.contains(date(2025, 3, 31)) and not fy.contains(date(2025, 4, 1))
    assert FinancialYear.containing(date(2025, 3, 31)) == fy
    assert FinancialYear.containing(date(2025, 4, 1)) == FinancialYear(2025)
    assert Quarter(2024, 3).financial_year == fy
    assert FinancialYear(2099).label == "2099/00"


@pytest.mark.parametrize(("year", "number"), [(2024, 0), (2024, 5), (2024, -1), (0, 1), (9999, 1)])
def test_impossible_quarters_are_refused(year: int, number: int) -> None:
    with pytest.raises(ValueError):
        Quarter(year, number)


def test_due_dates() -> None:
    assert DEFAULT_DUE_DAYS == 28
    assert Quarter(2024, 4).due_date() == date(2025, 4, 28)
    assert Quarter(2024, 3).due_date() == date(2025, 1, 28)
    assert Quarter(2024, 1).due_date() == date(2024, 7, 28)
    assert Quarter(2024, 4).due_date(14) == date(2025, 4, 14)
    assert Quarter(2024, 4).due_date(0) == date(2025, 3, 31)
    assert Quarter(2024, 3).due_date(45) == date(2025, 2, 14)
    with pytest.raises(ValueError):
        Quarter(2024, 4).due_date(-1)


def test_due_days_come_from_settings() -> None:
    assert Settings.from_env({}).due_days == DEFAULT_DUE_DAYS
    settings = Settings.from_env({"MARAC_DUE_DAYS": "21"})
    assert Quarter(2024, 4).due_date(settings.due_days) == date(2025, 4, 21)


# --- date → quarter --------------------------------------------------------------------------

# Spec §2: Apr–Jun is Q1, Jul–Sep Q2, Oct–Dec Q3 of the year that started in April; Jan–Mar is Q4
# of the year that started the April before.
MONTH_TO_QUARTER = {4: 1, 5: 1, 6: 1, 7: 2, 8: 2, 9: 2, 10: 3, 11: 3, 12: 3, 1: 4, 2: 4, 3: 4}


@pytest.mark.parametrize("year", [1999, 2000, 2023, 2024, 2025])
@pytest.mark.parametrize("month", range(1, 13))
def test_every_month_boundary(year: int, month: int) -> None:
    first = date(year, month, 1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    expected = Quarter(year if month >= 4 else year - 1, MONTH_TO_QUARTER[month])
    assert Quarter.containing(first) == expected
    assert Quarter.containing(last) == expected
    assert expected.contains(first) and expected.contains(last)
    before = Quarter.containing(first - timedelta(days=1))
    assert before == (expected.previous() if month in (1, 4, 7, 10) else expected)


def test_leap_day() -> None:
    assert Quarter.containing(date(2024, 2, 29)) == Quarter(2023, 4)
    assert Quarter(2023, 4).contains(date(2024, 2, 29))
    assert Quarter(2023, 4).end == date(2024, 3, 31)
    assert FinancialYear.containing(date(2024, 2, 29)) == FinancialYear(2023)


@given(days)
def test_every_day_is_in_exactly_the_quarter_containing_it(day: date) -> None:
    quarter = Quarter.containing(day)
    assert quarter.contains(day)
    assert not quarter.previous().contains(day) and not quarter.next().contains(day)
    assert quarter.financial_year.contains(day)


# --- sequence, ordering, hashing -------------------------------------------------------------


def test_next_and_previous_across_years() -> None:
    assert Quarter(2024, 4).next() == Quarter(2025, 1)
    assert Quarter(2025, 1).previous() == Quarter(2024, 4)
    assert Quarter(2024, 2).next() == Quarter(2024, 3)
    assert Quarter(2024, 3).previous() == Quarter(2024, 2)
    assert Quarter(1999, 4).next().label == "Q1 2000/01"


@given(quarters)
def test_quarters_tile_time(quarter: Quarter) -> None:
    assert quarter.next().previous() == quarter
    assert quarter.previous().next() == quarter
    assert quarter.next().start == quarter.end + timedelta(days=1)
    assert Quarter.containing(quarter.start) == Quarter.containing(quarter.end) == quarter
    assert 90 <= (quarter.end - quarter.start).days + 1 <= 92


@given(quarters, quarters)
def test_ordering_follows_time(a: Quarter, b: Quarter) -> None:
    assert (a < b) == (a.start < b.start)
    assert (a == b) == (a.start == b.start)


def test_ordering_and_hashing() -> None:
    shuffled = [Quarter(2025, 1), Quarter(2023, 4), Quarter(2024, 2), Quarter(2024, 1)]
    in_order = ["Q4 2023/24", "Q1 2024/25", "Q2 2024/25", "Q1 2025/26"]
    assert [q.label for q in sorted(shuffled)] == in_order
    assert Quarter(2023, 4) < Quarter(2024, 1) < Quarter(2024, 4) < Quarter(2025, 1)
    assert max(shuffled) == Quarter(2025, 1)
    assert len({Quarter(2024, 3), Quarter(2024, 3), Quarter.from_label("Q3 2024/25")}) == 1
    totals = {Quarter(2024, 3): 12}
    assert totals[Quarter.containing(date(2024, 11, 5))] == 12
    assert hash(FinancialYear(2024)) == hash(FinancialYear.parse("24/25"))
    with pytest.raises(AttributeError):
        Quarter(2024, 3).number = 4  # type: ignore[misc]


# --- canonical labels ------------------------------------------------------------------------


@given(quarters)
def test_label_round_trip(quarter: Quarter) -> None:
    assert Quarter.from_label(quarter.label) == quarter
    assert Quarter.parse(quarter.label, today=TODAY) == quarter


@pytest.mark.parametrize(
    "label",
    ["Q5 2024/25", "Q0 2024/25", "Q3 2024/26", "q3 2024/25", "Q3 24/25", "Q3 2024-25", "Q3", ""],
)
def test_from_label_is_strict(label: str) -> None:
    with pytest.raises(ValueError):
        Quarter.from_label(label)


# --- loose phrasings -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Q3", "Q3 2024/25"),
        ("q3", "Q3 2024/25"),
        ("Q3 2024/25", "Q3 2024/25"),
        ("q3 24/25", "Q3 2024/25"),
        ("Q3 2024-25", "Q3 2024/25"),
        ("Q3 2024/2025", "Q3 2024/25"),
        ("Q3 FY24/25", "Q3 2024/25"),
        ("Q3 FY 2024/25", "Q3 2024/25"),
        ("quarter 3 2024/25", "Q3 2024/25"),
        ("Quarter 3 of 2024/25", "Q3 2024/25"),
        ("Q3 (2024/25)", "Q3 2024/25"),
        ("2024/25 Q3", "Q3 2024/25"),
        ("third quarter 2024/25", "Q3 2024/25"),
        ("Q2 last year", "Q2 2023/24"),
        ("Q1 this year", "Q1 2024/25"),
        ("Oct-Dec 2024", "Q3 2024/25"),
        ("October to December 2024", "Q3 2024/25"),
        ("Oct–Dec 2024", "Q3 2024/25"),
        ("Oct — Dec 2024", "Q3 2024/25"),
        ("Jan-Mar 2025", "Q4 2024/25"),
        ("Apr-Jun 2024", "Q1 2024/25"),
        ("July to September 2024", "Q2 2024/25"),
        ("Oct 2024 - Dec 2024", "Q3 2024/25"),
        ("1 Oct – 31 Dec 2024", "Q3 2024/25"),
        ("1 October 2024 to 31 December 2024", "Q3 2024/25"),
        ("quarter ending December 2024", "Q3 2024/25"),
        ("quarter ended 31 March 2025", "Q4 2024/25"),
        ("quarter ending Dec 2024", "Q3 2024/25"),
        ("Quarter ending 30th June 2024", "Q1 2024/25"),
        ("quarter ending 31/12/2024", "Q3 2024/25"),
        ("quarter ended 2025-03-31", "Q4 2024/25"),
        ("three months to 30 September 2024", "Q2 2024/25"),
        ("last quarter", "Q3 2024/25"),
        ("previous quarter", "Q3 2024/25"),
        ("this quarter", "Q4 2024/25"),
        ("current quarter", "Q4 2024/25"),
        ("  Q3   2024/25. ", "Q3 2024/25"),
    ],
)
def test_parse_phrasings(text: str, label: str) -> None:
    assert Quarter.parse(text, today=TODAY) == Quarter.from_label(label)


@pytest.mark.parametrize(
    "text",
    [
        "Q5",
        "Q0",
        "Q3 2024/23",
        "Q3 2024/26",
        "2024/26",
        "2024/25",
        "Q3 2024",  # calendar or financial year? ambiguous, so not guessed
        "Oct-Nov 2024",
        "Nov-Jan 2025",
        "Dec-Feb 2025",
        "2 Oct – 31 Dec 2024",
        "1 Oct – 30 Dec 2024",
        "Oct 2023 - Dec 2024",
        "quarter ending November 2024",
        "quarter ended 30 March 2025",
        "quarter ending 31/13/2024",
        "quarter ending 31 June 2024",
        "next quarter",
        "hello",
        "",
    ],
)
def test_parse_rejects_nonsense(text: str) -> None:
    assert Quarter.parse(text, today=TODAY) is None


@pytest.mark.parametrize(
    ("today", "text", "label"),
    [  # a bare quarter number is the most recent such quarter that has started
        (date(2024, 9, 30), "Q3", "Q3 2023/24"),
        (date(2024, 10, 1), "Q3", "Q3 2024/25"),
        (date(2024, 12, 31), "Q4", "Q4 2023/24"),
        (date(2025, 1, 1), "Q4", "Q4 2024/25"),
        (date(2025, 3, 31), "Q1", "Q1 2024/25"),
        (date(2025, 4, 1), "Q1", "Q1 2025/26"),
        (date(2025, 4, 1), "Q2", "Q2 2024/25"),
        (date(2024, 6, 30), "Q2", "Q2 2023/24"),
        (date(2024, 7, 1), "Q2", "Q2 2024/25"),
        (date(2025, 4, 1), "last quarter", "Q4 2024/25"),
        (date(2025, 3, 31), "last quarter", "Q3 2024/25"),
        (date(2025, 3, 31), "this quarter", "Q4 2024/25"),
        (date(2025, 4, 1), "this quarter", "Q1 2025/26"),
        (date(2024, 1, 1), "previous quarter", "Q3 2023/24"),
    ],
)
def test_phrases_relative_to_today(today: date, text: str, label: str) -> None:
    assert Quarter.parse(text, today=today) == Quarter.from_label(label)


@given(days, st.integers(1, 4))
def test_bare_number_is_latest_started(today: date, number: int) -> None:
    found = Quarter.parse(f"Q{number}", today=today)
    assert found is not None and found.number == number
    assert found.start <= today < Quarter(found.year + 1, number).start


@given(realistic_quarters)
def test_written_forms_parse_back(quarter: Quarter) -> None:
    fy = quarter.financial_year
    short = f"{fy.start_year % 100:02d}/{(fy.start_year + 1) % 100:02d}"
    written = (quarter.range_text(), f"q{quarter.number} {short}", f"{fy.label} Q{quarter.number}")
    for text in written:
        assert Quarter.parse(text, today=TODAY) == quarter, text
    assert Quarter.find_in(quarter.describe(), today=TODAY) == quarter
    ending = f"quarter ended {quarter.end:%d/%m/%Y}"
    assert Quarter.parse(ending, today=TODAY) == quarter


# --- finding a quarter in free text ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Croydon Q3 2024/25 return", "Q3 2024/25"),
        ("RE: Q3 data", "Q3 2024/25"),
        ("has Croydon uploaded q3 24/25?", "Q3 2024/25"),
        ("has Croydon uploaded Q3?", "Q3 2024/25"),
        ("who is missing last quarter in London", "Q3 2024/25"),
        ("data for Oct-Dec 2024 attached", "Q3 2024/25"),
        ("Fwd: Marac return for the quarter ended 31 March 2024", "Q4 2023/24"),
        ("Q2 2023/24 (1 Jul – 30 Sep 2023)", "Q2 2023/24"),
        ("repeat rate for Leeds Q1", "Q1 2024/25"),
        ("missing Q2 in London", "Q2 2024/25"),
        ("Kent: 2023/24 Q4 figures", "Q4 2023/24"),
        # a mention with a year is preferred to a bare one
        ("Q3 return: the Q3 2023/24 figures", "Q3 2023/24"),
        ("Q4 data, as asked, for Oct-Dec 2024", "Q3 2024/25"),
        ("Re: Re: Q3 2024/25 resend, Q3", "Q3 2024/25"),
    ],
)
def test_find_in(text: str, label: str) -> None:
    assert Quarter.find_in(text, today=TODAY) == Quarter.from_label(label)


@pytest.mark.parametrize(
    "text",
    [
        "Croydon Marac return",
        "meeting on 2024-10-03 and 03/10/2024",
        "HQ3 decision in March 2024",
        "Q3 2024/23 data",
        "data for Oct-Nov 2024",
        "Q3 2024 return",
        "Q2 and Q3 returns",
        "Q2 2024/25 and Q3 2024/25",
        "2024/25 figures",
        "Q5 return",
    ],
)
def test_find_in_names_nothing_or_is_ambiguous(text: str) -> None:
    assert Quarter.find_in(text, today=TODAY) is None


# --- financial years -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "start_year"),
    [
        ("2024/25", 2024),
        ("2024-25", 2024),
        ("24/25", 2024),
        ("2024/2025", 2024),
        ("FY 2024/25", 2024),
        ("fy24/25", 2024),
        ("2024 / 25", 2024),
        ("1999/00", 1999),
        ("2099/2100", 2099),
        ("this year", 2024),
        ("this financial year", 2024),
        ("last year", 2023),
        ("previous financial year", 2023),
    ],
)
def test_financial_year_parse(text: str, start_year: int) -> None:
    assert FinancialYear.parse(text, today=TODAY) == FinancialYear(start_year)


@pytest.mark.parametrize(
    "text", ["2024/26", "2024/23", "2024", "24", "2024/2026", "next year", "0000/01", ""]
)
def test_financial_year_rejects_nonsense(text: str) -> None:
    assert FinancialYear.parse(text, today=TODAY) is None


def test_relative_years_need_today() -> None:
    assert FinancialYear.parse("this year") is None
    assert FinancialYear.parse("2024/25") == FinancialYear(2024)
    assert FinancialYear.parse("last year", today=date(2024, 4, 1)) == FinancialYear(2023)
    assert FinancialYear.parse("last year", today=date(2024, 3, 31)) == FinancialYear(2022)


@pytest.mark.parametrize(
    ("text", "start_year"),
    [
        ("how many cases did Leeds discuss in 2023/24?", 2023),
        ("national picture 2024/25", 2024),
        ("Croydon this year", 2024),
        ("has Croydon uploaded q3 24/25?", 2024),
        ("grid London 2024-25, please", 2024),
        ("status Croydon", None),
        ("Leeds 2024/26", None),
        ("2023/24 against 2024/25", None),
        ("meeting on 2024-10-03", None),
    ],
)
def test_financial_year_find_in(text: str, start_year: int | None) -> None:
    expected = FinancialYear(start_year) if start_year is not None else None
    assert FinancialYear.find_in(text, today=TODAY) == expected


@given(st.integers(min_value=2000, max_value=2098))
def test_financial_year_label_round_trip(start_year: int) -> None:
    fy = FinancialYear(start_year)
    assert FinancialYear.parse(fy.label) == fy
    assert FinancialYear.parse(fy.label.replace("/", "-")) == fy
    assert FinancialYear.containing(fy.start) == FinancialYear.containing(fy.end) == fy


def test_a_short_texts_quarter_is_kept_and_a_long_ones_found_afresh() -> None:
    from kernel import quarters as module

    today = date(2025, 2, 4)
    kept = "Q3 2024/25 return".ljust(module._KEPT_TEXT)
    long = kept + " "
    module._found_in_kept.cache_clear()  # what earlier tests in this process kept
    for text in (kept, kept, long, long):
        assert Quarter.find_in(text, today=today) == Quarter(2024, 3)
    found = module._found_in_kept.cache_info()
    # Found once and then taken as kept; the long one never asked for.
    assert (found.hits, found.misses, found.currsize) == (1, 1, 1)


def test_a_kept_answer_is_the_days_own() -> None:
    """"last quarter" names another quarter on another day: the day is part of what is kept."""
    assert Quarter.find_in("last quarter", today=date(2025, 2, 4)) == Quarter(2024, 3)
    assert Quarter.find_in("last quarter", today=date(2025, 4, 1)) == Quarter(2024, 4)
    assert Quarter.find_in("last quarter", today=date(2025, 2, 4)) == Quarter(2024, 3)


def test_a_long_text_is_read_on_its_day_too() -> None:
    from kernel import quarters as module

    long = "last quarter".ljust(module._KEPT_TEXT + 1)
    assert Quarter.find_in(long, today=date(2025, 2, 4)) == Quarter(2024, 3)
    assert Quarter.find_in(long, today=date(2025, 4, 1)) == Quarter(2024, 4)
