"""The policy's calendar arithmetic: working days per nation, stage windows, catch-up, settings."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from bot.settings import ConfigError, Settings
from handlers.reminder_policy import (
    Anchor,
    ReminderPolicy,
    Stage,
    StageRule,
    open_digest,
    open_stage,
    quarters_in_play,
    stage_dates,
)
from handlers.working_days import WorkingDays, subdivision
from kernel.quarters import Quarter

D = date
Q3 = Quarter(2024, 3)
POLICY = ReminderPolicy()


@pytest.fixture
def calendar() -> WorkingDays:
    return WorkingDays()


@pytest.mark.parametrize(
    ("day", "nation", "working"),
    [
        (D(2024, 4, 1), "England", False),  # Easter Monday
        (D(2024, 4, 1), "Scotland", True),  # not a Scottish bank holiday
        (D(2025, 1, 2), "Scotland", False),  # 2 January: Scotland only
        (D(2025, 1, 2), "Wales", True),
        (D(2024, 12, 2), "Scotland", False),  # St Andrew's Day, observed on the Monday
        (D(2025, 3, 17), "Northern Ireland", False),  # St Patrick's Day
        (D(2025, 3, 17), "England", True),
        (D(2025, 7, 14), "Northern Ireland", False),  # Battle of the Boyne, observed
        (D(2024, 8, 5), "Scotland", False),  # Scotland's summer holiday is early August
        (D(2024, 8, 26), "Scotland", True),
        (D(2024, 8, 26), "England", False),
        (D(2024, 12, 25), "Northern Ireland", False),
        (D(2024, 10, 26), "England", False),  # a Saturday
    ],
)
def test_working_days_follow_each_nation(
    calendar: WorkingDays, day: date, nation: str, working: bool
) -> None:
    assert calendar.is_working_day(day, nation) is working


def test_shift_never_counts_the_day_itself(calendar: WorkingDays) -> None:
    # Mon 14 Jul 2025 is the Boyne holiday in Northern Ireland only.
    assert calendar.shift(D(2025, 7, 11), 1, "Northern Ireland") == D(2025, 7, 15)
    assert calendar.shift(D(2025, 7, 11), 1, "England") == D(2025, 7, 14)
    assert calendar.shift(D(2025, 7, 18), -5, "Northern Ireland") == D(2025, 7, 10)
    assert calendar.shift(D(2025, 7, 18), -5, "England") == D(2025, 7, 11)
    assert calendar.shift(D(2025, 1, 4), 0, "England") == D(2025, 1, 6)
    assert calendar.shift(D(2025, 1, 6), 0, "England") == D(2025, 1, 6)


def test_nation_names_are_read_loosely_and_unknown_ones_fall_back() -> None:
    assert subdivision(" northern  IRELAND ") == "NIR"
    assert subdivision("Cymru") == "WLS"
    assert subdivision("Atlantis") == "ENG"


def test_stage_dates_in_order(calendar: WorkingDays) -> None:
    dated = [(rule.stage.value, day) for rule, day in stage_dates(POLICY, calendar, Q3, "Wales")]
    assert dated == [
        ("quarter-ended", D(2025, 1, 2)),
        ("due-soon", D(2025, 1, 21)),
        ("overdue", D(2025, 1, 29)),
        ("second-quarter-missing", D(2025, 1, 29)),
    ]


def _open(calendar: WorkingDays, day: date, *, previous_missing: bool = False,
          policy: ReminderPolicy = POLICY, nation: str = "England") -> str | None:
    rule = open_stage(policy, calendar, Q3, nation=nation, today=day,
                      previous_missing=previous_missing)
    return None if rule is None else rule.stage.value


def test_a_stage_stays_open_until_the_next_one_for_catch_up(calendar: WorkingDays) -> None:
    assert _open(calendar, D(2024, 12, 31)) is None
    assert _open(calendar, D(2025, 1, 2)) == "quarter-ended"
    assert _open(calendar, D(2025, 1, 20)) == "quarter-ended"  # down since the 2nd: caught up
    assert _open(calendar, D(2025, 1, 18)) is None  # Saturday: waits for Monday
    assert _open(calendar, D(2025, 1, 21)) == "due-soon"
    assert _open(calendar, D(2025, 1, 28)) == "due-soon"  # the due date itself
    assert _open(calendar, D(2025, 1, 29)) == "overdue"
    assert _open(calendar, D(2025, 1, 29), previous_missing=True) == "second-quarter-missing"
    assert _open(calendar, D(2025, 2, 4)) == "overdue"  # the last stage: open a week
    assert _open(calendar, D(2025, 2, 5)) is None  # missed for good: not sent weeks late


def test_scotland_waits_for_its_own_working_day(calendar: WorkingDays) -> None:
    assert _open(calendar, D(2025, 1, 2), nation="Scotland") is None
    assert _open(calendar, D(2025, 1, 3), nation="Scotland") == "quarter-ended"


def test_due_days_and_stages_are_configurable(calendar: WorkingDays) -> None:
    policy = ReminderPolicy.from_settings(
        Settings(due_days=35),
        stages=(StageRule(Stage.DUE_SOON, Anchor.DUE_DATE, -3),
                StageRule(Stage.OVERDUE, Anchor.DUE_DATE, 2, copy_chairs=True)),
    )
    assert policy.due_date(Q3) == D(2025, 2, 4)
    dated = [(r.stage.value, d) for r, d in stage_dates(policy, calendar, Q3, "England")]
    assert dated == [("due-soon", D(2025, 1, 30)), ("overdue", D(2025, 2, 6))]
    assert _open(calendar, D(2025, 1, 2), policy=policy) is None  # no quarter-ended stage


@pytest.mark.parametrize("unsafe", [time(1, 0), time(1, 30), time(2, 59)])
def test_send_time_is_never_when_clocks_change(unsafe: time) -> None:
    with pytest.raises(ConfigError, match="01:00 and 03:00"):
        ReminderPolicy(send_time=unsafe)


def test_safe_send_times_and_defaults() -> None:
    assert ReminderPolicy(send_time=time(3, 0)).send_time == time(3, 0)
    assert ReminderPolicy(send_time=time(0, 59)).send_time == time(0, 59)
    policy = ReminderPolicy.from_settings(Settings())
    assert (policy.send_time, policy.timezone, policy.due_days) == (
        time(9, 30), "Europe/London", 28)
    with pytest.raises(ConfigError):
        ReminderPolicy(send_time=time(18, 0))  # after the last send time


def test_digests_weekly_in_the_two_weeks_before_the_due_date(calendar: WorkingDays) -> None:
    opened: dict[str, list[date]] = {}
    day = D(2025, 1, 1)
    while day <= D(2025, 2, 10):
        stage = open_digest(POLICY, calendar, Q3, today=day)
        if stage is not None:
            opened.setdefault(stage, []).append(day)
        day += timedelta(days=1)
    assert min(opened["managers-digest-2w"]) == D(2025, 1, 14)
    assert max(opened["managers-digest-2w"]) == D(2025, 1, 20)
    assert min(opened["managers-digest-1w"]) == D(2025, 1, 21)
    assert max(opened["managers-digest-1w"]) == D(2025, 1, 28)


def test_quarters_in_play_cover_open_chains_only() -> None:
    # Q2's chain closed a week after its overdue stage (29 Oct): it is out of play by January.
    assert quarters_in_play(POLICY, D(2024, 11, 4)) == [Q3, Quarter(2024, 2)]
    assert quarters_in_play(POLICY, D(2025, 1, 2)) == [Quarter(2024, 4), Q3]
    assert Q3 not in quarters_in_play(POLICY, D(2025, 4, 1))
