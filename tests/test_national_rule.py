"""Spec §5's national rule as one pure function (kernel/national_rule.py): one missed quarter
is filled from the quarter before, two in a row leave a Marac out (of the year too), a quarter
not yet due only counts who sent, a quarter not started has nothing. Boundaries pinned."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from kernel.national_rule import Basis, QuarterState, apply_rule, quarter_state
from kernel.quarters import Quarter

Q4_PREV, Q1, Q2, Q3, Q4 = (
    Quarter(2023, 4),
    Quarter(2024, 1),
    Quarter(2024, 2),
    Quarter(2024, 3),
    Quarter(2024, 4),
)
YEAR = (Q1, Q2, Q3, Q4)
LATE = date(2025, 6, 1)  # every quarter of 2024/25 due


@pytest.mark.parametrize(
    ("today", "state"),
    [
        (Q3.start - timedelta(days=1), QuarterState.NOT_STARTED),
        (Q3.start, QuarterState.OPEN),
        (Q3.due_date(28), QuarterState.OPEN),  # due that day: still time to send
        (Q3.due_date(28) + timedelta(days=1), QuarterState.DUE),
    ],
)
def test_quarter_states_at_their_boundaries(today: date, state: QuarterState) -> None:
    assert quarter_state(Q3, today=today, due_days=28) is state


def test_one_missed_quarter_is_filled_from_the_one_before() -> None:
    basis = apply_rule([1, 2], [Q2], {(1, Q1), (1, Q2), (2, Q1)}, today=LATE)
    (q2,) = basis.quarters
    assert (q2.sent, q2.filled, q2.left_out) == ((1,), (2,), ())
    filled = q2.contributions[1]
    assert (filled.basis, filled.source) == (Basis.FILLED, Q1)
    assert basis.counted() == {1: (q2.contributions[0],), 2: (filled,)}


def test_two_missed_in_a_row_leave_a_marac_out_even_if_it_sent_before() -> None:
    basis = apply_rule([7], [Q3], {(7, Q1)}, today=LATE)  # sent Q1, missed Q2 and Q3
    assert basis.quarters[0].left_out == (7,) and basis.counted() == {}


def test_the_quarter_before_the_year_fills_its_first_quarter() -> None:
    basis = apply_rule([1], [Q1], {(1, Q4_PREV)}, today=LATE)
    assert basis.quarters[0].contributions[0].source == Q4_PREV


def test_a_year_counts_each_marac_in_the_quarters_it_counts_in() -> None:
    # Marac 1 sends every quarter; 2 misses Q2 and Q3; 3 misses Q3 only (filled from Q2).
    sent = {(1, q) for q in YEAR} | {(2, Q1), (2, Q4)} | {(3, Q1), (3, Q2), (3, Q4)}
    basis = apply_rule([1, 2, 3], YEAR, sent, today=LATE)
    assert basis.left_out == (2,) and basis.filled == (2, 3)  # 2 was filled in Q2
    counted = basis.counted()
    assert [c.source for c in counted[1]] == list(YEAR)
    assert [c.source for c in counted[2]] == [Q1, Q1, Q4]  # Q2 filled, out of Q3
    assert [c.source for c in counted[3]] == [Q1, Q2, Q2, Q4]


def test_a_quarter_not_yet_due_counts_only_who_sent() -> None:
    today = Q3.end  # Q3 open (due 28 days later), Q4 not started
    basis = apply_rule([1, 2], [Q3, Q4], {(1, Q3), (2, Q2)}, today=today)
    q3, q4 = basis.quarters
    assert (q3.state, q3.sent, q3.awaited, q3.filled, q3.left_out) == (
        QuarterState.OPEN,
        (1,),
        (2,),
        (),
        (),
    )
    assert (q4.state, q4.contributions) == (QuarterState.NOT_STARTED, ())
    assert basis.started and basis.counted() == {1: q3.counted}


def test_a_period_not_started_has_nothing() -> None:
    basis = apply_rule([1], [Q4], {(1, Q3)}, today=Q4.start - timedelta(days=1))
    assert not basis.started and basis.counted() == {} and basis.left_out == ()
