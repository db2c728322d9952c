"""The reminder policy as data (issue 6; spec §2 due dates, §5 two missed quarters).

Each stage is dated by working days of the Marac's nation from an anchor (the quarter's end or
its due date). A stage is *open* from its date until the next stage's date (the last one for
``catch_up_days``), so a day the bot was down is caught up once on the next working day, and a
stage that was missed for good is skipped rather than sent late out of order.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import date, time, timedelta
from enum import StrEnum
from typing import Any

from handlers.working_days import WorkingDays
from kernel.config import (
    CLOCK_CHANGE_FROM,
    CLOCK_CHANGE_UNTIL,
    DEFAULT_REMINDER_TIME,
    REMINDER_LAST_SEND_TIME,
    ConfigError,
    Policy,
)
from kernel.quarters import DEFAULT_DUE_DAYS, Quarter, is_tracked

logger = logging.getLogger(__name__)

# Clocks change between 01:00 and 03:00 in the UK: a time in there may happen twice or never.
UNSAFE_FROM, UNSAFE_UNTIL = CLOCK_CHANGE_FROM, CLOCK_CHANGE_UNTIL
DIGEST_STAGE = "managers-digest"


class Stage(StrEnum):
    QUARTER_ENDED = "quarter-ended"
    DUE_SOON = "due-soon"
    OVERDUE = "overdue"
    SECOND_QUARTER_MISSING = "second-quarter-missing"


class Anchor(StrEnum):
    QUARTER_END = "quarter-end"
    DUE_DATE = "due-date"


@dataclass(frozen=True)
class StageRule:
    """When a stage is sent and whom it copies.

    ``working_days`` counts from the anchor, which itself never counts: +1 is the first working
    day after it, -5 the fifth working day before it. A rule that ``needs_previous_missing``
    applies only when the quarter before is missing too (and tracked: see
    ``ReminderPolicy.track_from``), and then wins over a rule of the same date listed before it
    (second-quarter-missing replaces overdue).
    """

    stage: Stage
    anchor: Anchor
    working_days: int
    copy_chairs: bool = False
    copy_managers: bool = False
    needs_previous_missing: bool = False


DEFAULT_STAGES: tuple[StageRule, ...] = (
    StageRule(Stage.QUARTER_ENDED, Anchor.QUARTER_END, 1),
    StageRule(Stage.DUE_SOON, Anchor.DUE_DATE, -5),
    StageRule(Stage.OVERDUE, Anchor.DUE_DATE, 1, copy_chairs=True),
    StageRule(
        Stage.SECOND_QUARTER_MISSING,
        Anchor.DUE_DATE,
        1,
        copy_chairs=True,
        copy_managers=True,
        needs_previous_missing=True,
    ),
)


@dataclass(frozen=True)
class ReminderPolicy:
    """Everything the reminders can be tuned by; the defaults are issue 6's policy."""

    due_days: int = DEFAULT_DUE_DAYS
    stages: tuple[StageRule, ...] = DEFAULT_STAGES
    send_time: time = DEFAULT_REMINDER_TIME
    # A catch-up run (after downtime) sends only before this local time; later waits a day.
    last_send_time: time = REMINDER_LAST_SEND_TIME
    timezone: str = "Europe/London"
    catch_up_days: int = 7
    digest_weeks: int = 2
    # Managers cover several nations: their digest follows one calendar.
    digest_nation: str = "England"
    # No reminder or digest for a quarter before this one, and a quarter before it never counts
    # as the first of two missed: it was collected before the bot existed. None: every quarter.
    track_from: Quarter | None = None

    def __post_init__(self) -> None:
        if UNSAFE_FROM <= self.send_time < UNSAFE_UNTIL:
            raise ConfigError(
                f"reminder send time {self.send_time:%H:%M} is between 01:00 and 03:00, when "
                "clocks change: choose another time"
            )
        if not self.send_time < self.last_send_time:
            raise ConfigError("the last send time must be after the reminder send time")
        if self.catch_up_days < 1 or self.digest_weeks < 0 or not self.stages:
            raise ConfigError("reminder policy: catch_up_days >= 1, digest_weeks >= 0, a stage")

    @classmethod
    def from_settings(cls, settings: Policy, **changes: Any) -> ReminderPolicy:
        """The default policy with the settings' due days, time zone, send time and first
        tracked quarter, then ``changes``."""
        base = cls(due_days=settings.due_days, timezone=settings.timezone,
                   send_time=settings.reminder_time, track_from=settings.track_from)
        return replace(base, **changes) if changes else base

    def due_date(self, quarter: Quarter) -> date:
        return quarter.due_date(self.due_days)

    def tracks(self, quarter: Quarter) -> bool:
        """Whether uploads of ``quarter`` are chased (kernel.quarters.is_tracked)."""
        return is_tracked(quarter, self.track_from)


def quarters_in_play(policy: ReminderPolicy, today: date) -> list[Quarter]:
    """The tracked quarters whose stages or digests might be open today, most recent first."""
    # The latest stage falls a few working days after the due date; a month covers holidays.
    horizon = timedelta(days=policy.catch_up_days + 31)
    found: list[Quarter] = []
    quarter = Quarter.containing(today)
    while policy.due_date(quarter) + horizon >= today and policy.tracks(quarter):
        found.append(quarter)
        quarter = quarter.previous()
    return found


def stage_dates(
    policy: ReminderPolicy, calendar: WorkingDays, quarter: Quarter, nation: str
) -> list[tuple[StageRule, date]]:
    """Each stage's date for this quarter and nation, in time order (ties: policy order)."""
    dated = []
    for index, rule in enumerate(policy.stages):
        anchor = quarter.end if rule.anchor is Anchor.QUARTER_END else policy.due_date(quarter)
        dated.append((calendar.shift(anchor, rule.working_days, nation), index, rule))
    return [(rule, day) for day, _, rule in sorted(dated, key=lambda item: item[:2])]


def open_stage(
    policy: ReminderPolicy,
    calendar: WorkingDays,
    quarter: Quarter,
    *,
    nation: str,
    today: date,
    previous_missing: bool,
) -> StageRule | None:
    """The one stage of ``quarter`` to send today to a Marac that has not uploaded it, if any.

    Nothing on a day that is not a working day in the Marac's nation: the stage stays open and
    goes on the next working day.
    """
    if not calendar.is_working_day(today, nation):
        return None
    dated = stage_dates(policy, calendar, quarter, nation)
    started = [
        (rule, day)
        for rule, day in dated
        if day <= today and (previous_missing or not rule.needs_previous_missing)
    ]
    if not started:
        return None
    rule, start = started[-1]
    later = [day for _, day in dated if day > start]
    closes = min(later) if later else start + timedelta(days=policy.catch_up_days)
    return rule if today < closes else None


def open_digest(
    policy: ReminderPolicy, calendar: WorkingDays, quarter: Quarter, *, today: date
) -> str | None:
    """The digest stage ("managers-digest-2w", "-1w") open today for ``quarter``, if any.

    Weekly in the ``digest_weeks`` weeks before the due date: each on the working day on or
    after due date minus that many weeks, open until the next one (the last: the due date).
    """
    nation = policy.digest_nation
    if not calendar.is_working_day(today, nation):
        return None
    due = policy.due_date(quarter)
    weeks = range(policy.digest_weeks, 0, -1)
    starts = [(k, calendar.shift(due - timedelta(weeks=k), 0, nation)) for k in weeks]
    closes = [day for _, day in starts[1:]] + [due + timedelta(days=1)]
    for (k, start), end in zip(starts, closes, strict=True):
        if start <= today < end:
            return f"{DIGEST_STAGE}-{k}w"
    return None
