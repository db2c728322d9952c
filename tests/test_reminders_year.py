"""A whole financial year, day by day: every run the scheduler's own trigger makes from
1 April 2024 to 30 April 2025, with returns arriving between stages, against the dates worked
out by hand from each nation's bank holidays (Easter Monday is not one in Scotland; 2 January is
one only there), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from bot.channels.email.outbound import email_renderer
from bot.scheduler import daily_trigger
from handlers.reminder_policy import ReminderPolicy
from handlers.reminders import run_reminders
from kernel.quarters import Quarter
from store.models import Role
from tests.reminders_support import (
    LONDON,
    NATIONS,
    SETTINGS,
    contacts,
    load_four_nations,
    log_count,
    outbox,
    upload,
)

D = date
Q4_23, Q1, Q2, Q3, Q4 = (Quarter(2023, 4), Quarter(2024, 1), Quarter(2024, 2), Quarter(2024, 3),
                         Quarter(2024, 4))
FIRST_DAY, LAST_DAY = D(2024, 4, 1), D(2025, 4, 30)


def _nations(default: date, **others: date) -> dict[str, date]:
    dates = dict.fromkeys(("England", "Wales", "Scotland", "Northern Ireland"), default)
    dates.update({k.replace("_", " ").title(): v for k, v in others.items()})
    return dates


# Worked out by hand (due date = quarter end + 28 days; due-soon = 5th working day before it;
# overdue = 1st working day after it). Bank holidays that move a date are named.
STAGE_DATES: dict[Quarter, dict[str, dict[str, date]]] = {
    Q4_23: {  # ends Sun 31 Mar 2024 (clocks go forward); due Sun 28 Apr 2024
        # Mon 1 Apr is Easter Monday, except in Scotland
        "quarter-ended": _nations(D(2024, 4, 2), scotland=D(2024, 4, 1)),
        "due-soon": _nations(D(2024, 4, 22)),
        "overdue": _nations(D(2024, 4, 29)),
    },
    Q1: {  # ends Sun 30 Jun; due Sun 28 Jul
        "quarter-ended": _nations(D(2024, 7, 1)),
        "due-soon": _nations(D(2024, 7, 22)),
        "overdue": _nations(D(2024, 7, 29)),
    },
    Q2: {  # ends Mon 30 Sep; due Mon 28 Oct (the day after the clocks go back)
        "quarter-ended": _nations(D(2024, 10, 1)),
        "due-soon": _nations(D(2024, 10, 21)),
        "overdue": _nations(D(2024, 10, 29)),
    },
    Q3: {  # ends Tue 31 Dec; 1 Jan everywhere and 2 Jan in Scotland are bank holidays
        "quarter-ended": _nations(D(2025, 1, 2), scotland=D(2025, 1, 3)),
        "due-soon": _nations(D(2025, 1, 21)),
        "overdue": _nations(D(2025, 1, 29)),
    },
    Q4: {  # ends Mon 31 Mar 2025; due Mon 28 Apr; Good Friday 18 Apr, Easter Monday 21 Apr
        "quarter-ended": _nations(D(2025, 4, 1)),
        "due-soon": _nations(D(2025, 4, 17), scotland=D(2025, 4, 21)),
        "overdue": _nations(D(2025, 4, 29)),
    },
}

# The managers' digest: due date minus 2 and 1 weeks, on or after (England's calendar).
DIGEST_DATES: dict[Quarter, dict[str, date]] = {
    Q4_23: {"managers-digest-2w": D(2024, 4, 15), "managers-digest-1w": D(2024, 4, 22)},
    Q1: {"managers-digest-2w": D(2024, 7, 15), "managers-digest-1w": D(2024, 7, 22)},
    Q2: {"managers-digest-2w": D(2024, 10, 14), "managers-digest-1w": D(2024, 10, 21)},
    Q3: {"managers-digest-2w": D(2025, 1, 14), "managers-digest-1w": D(2025, 1, 21)},
    # 21 Apr 2025 is Easter Monday
    Q4: {"managers-digest-2w": D(2025, 4, 14), "managers-digest-1w": D(2025, 4, 22)},
}

# Returns already in before the walk starts.
BEFORE = {("Croydon", Quarter(2023, 3)), ("Cardiff", Quarter(2023, 3)),
          ("Glasgow", Quarter(2023, 3)), ("Belfast", Quarter(2023, 3))}

# (Marac, quarter) -> the day its return arrives (before that day's run). Leeds never sends.
ARRIVALS: dict[tuple[str, Quarter], date] = {
    # Croydon: soon after each quarter-ended reminder; Q2 between due-soon and overdue; Q4 never.
    ("Croydon", Q4_23): D(2024, 4, 5),
    ("Croydon", Q1): D(2024, 7, 4),
    ("Croydon", Q2): D(2024, 10, 24),
    ("Croydon", Q3): D(2025, 1, 6),
    # Cardiff: Q4 2023/24 before any reminder; Q1 never; Q2 after the escalation; Q3 before
    # due-soon; Q4 on the last day of the quarter.
    ("Cardiff", Q4_23): D(2024, 4, 1),
    ("Cardiff", Q2): D(2024, 11, 5),
    ("Cardiff", Q3): D(2025, 1, 20),
    ("Cardiff", Q4): D(2025, 3, 31),
    # Glasgow: Q4 2023/24 after due-soon; Q2 on the morning of its quarter-ended day; Q3 late.
    ("Glasgow", Q4_23): D(2024, 4, 23),
    ("Glasgow", Q1): D(2024, 7, 2),
    ("Glasgow", Q2): D(2024, 10, 1),
    ("Glasgow", Q3): D(2025, 2, 10),
    # Belfast: between quarter-ended and due-soon, every quarter.
    ("Belfast", Q4_23): D(2024, 4, 10),
    ("Belfast", Q1): D(2024, 7, 10),
    ("Belfast", Q2): D(2024, 10, 10),
    ("Belfast", Q3): D(2025, 1, 10),
    ("Belfast", Q4): D(2025, 4, 10),
}

Sent = tuple[date, str | None, str, str, str, str]  # day, Marac, quarter, stage, contact, channel


def _missing_on(marac: str, quarter: Quarter, day: date) -> bool:
    if (marac, quarter) in BEFORE:
        return False
    arrived = ARRIVALS.get((marac, quarter))
    return arrived is None or arrived > day


def _channels(email: str) -> tuple[str, ...]:
    return {"cara@croydon.example": ("email", "slack"),
            "gil@glasgow.example": ("teams",)}.get(email, ("email",))


def _expected(session: Session) -> set[Sent]:
    """What the policy promises, from the hand-worked dates and the arrivals above."""
    managers = {"Croydon": {"lena@region.example", "nia@national.example"},
                "Cardiff": {"wyn@region.example", "nia@national.example"}}
    expected: set[Sent] = set()
    for marac, nation in NATIONS.items():
        for quarter, stages in STAGE_DATES.items():
            for stage, dates in stages.items():
                day = dates[nation]
                if not _missing_on(marac, quarter, day):
                    continue
                people = contacts(session, marac, Role.COORDINATOR)
                if stage == "overdue":
                    people |= contacts(session, marac, Role.CHAIR)
                    if _missing_on(marac, quarter.previous(), day):
                        stage = "second-quarter-missing"
                        people |= managers.get(marac, {"nia@national.example"})
                expected |= {(day, marac, quarter.label, stage, p, c)
                             for p in people for c in _channels(p)}
    overseers = {"ada@data.example", "lena@region.example", "wyn@region.example",
                 "nia@national.example"}
    for quarter, digests in DIGEST_DATES.items():
        for stage, day in digests.items():
            expected |= {(day, None, quarter.label, stage, p, "email") for p in overseers}
    return expected


def _scheduled_runs() -> Iterator[datetime]:
    """Every run of the scheduler's own daily trigger over the walk, in London time."""
    trigger = daily_trigger(ReminderPolicy.from_settings(SETTINGS))
    now = datetime(2024, 3, 31, 0, 0, tzinfo=LONDON)
    while True:
        fire = trigger.get_next_fire_time(None, now)
        assert fire is not None
        fire = fire.astimezone(LONDON)
        if fire.date() > LAST_DAY:
            return
        if fire.date() >= FIRST_DAY:
            yield fire
        now = fire + timedelta(seconds=1)


def _walk(session: Session) -> list[Sent]:
    arrivals: dict[date, list[tuple[str, Quarter]]] = {}
    for key, day in ARRIVALS.items():
        arrivals.setdefault(day, []).append(key)
    sent: list[Sent] = []
    expected_day = FIRST_DAY
    for fire in _scheduled_runs():
        assert fire.date() == expected_day and (fire.hour, fire.minute) == (9, 30), fire
        expected_day += timedelta(days=1)
        for marac, quarter in arrivals.get(fire.date(), []):
            upload(session, marac, quarter, on=fire.date())
        decisions = run_reminders(session, settings=SETTINGS, today=fire.date(), dry_run=False,
                                  now=fire, render_email=email_renderer(SETTINGS.mailbox_address))
        session.commit()
        assert all(d.sent for d in decisions)
        sent += [(fire.date(), d.marac, d.quarter, d.stage, d.contact, d.channel)
                 for d in decisions]
    assert expected_day == LAST_DAY + timedelta(days=1)  # no day skipped, none run twice
    return sent


@pytest.mark.slow
def test_a_year_of_reminders_day_by_day(db_session: Session) -> None:
    load_four_nations(db_session)
    for marac, quarter in BEFORE:
        upload(db_session, marac, quarter, on=quarter.end)
    db_session.commit()

    sent = _walk(db_session)

    assert len(sent) == len(set(sent)), "a reminder went twice"
    assert set(sent) == _expected(db_session)
    # Everything decided is in the outbox exactly once, and in the log once per contact.
    assert len(outbox(db_session)) == len(sent)
    assert log_count(db_session) == len({(s[1], s[2], s[3], s[4]) for s in sent})
    _spot_checks(sent)


def _spot_checks(sent: list[Sent]) -> None:
    """The differences between nations and the holidays, stated plainly."""
    by_day: dict[date, set[tuple[str | None, str, str]]] = {}
    for day, marac, quarter, stage, _, _ in sent:
        by_day.setdefault(day, set()).add((marac, quarter, stage))
    # Easter Monday 2024: only Scotland works, so only Glasgow hears that Q4 2023/24 ended.
    assert by_day[D(2024, 4, 1)] == {("Glasgow", "Q4 2023/24", "quarter-ended")}
    # 2 January 2025 is a holiday in Scotland only: Glasgow hears a day after the others.
    assert ("Glasgow", "Q3 2024/25", "quarter-ended") not in by_day[D(2025, 1, 2)]
    assert ("Glasgow", "Q3 2024/25", "quarter-ended") in by_day[D(2025, 1, 3)]
    assert ("Leeds", "Q3 2024/25", "quarter-ended") in by_day[D(2025, 1, 2)]
    # Easter 2025 moves due-soon to Thursday 17 April except in Scotland (Monday 21 April).
    assert ("Croydon", "Q4 2024/25", "due-soon") in by_day[D(2025, 4, 17)]
    assert by_day[D(2025, 4, 21)] == {("Glasgow", "Q4 2024/25", "due-soon")}
    # Christmas, Boxing Day, New Year's Day, Good Friday and the clock-change Sundays: silence.
    for quiet in (D(2024, 12, 25), D(2024, 12, 26), D(2025, 1, 1), D(2025, 4, 18),
                  D(2024, 10, 27), D(2025, 3, 30)):
        assert quiet not in by_day, quiet
    # Nothing on any weekend.
    assert all(day.weekday() < 5 for day in by_day)
    # An upload in between stops the rest: Croydon's Q2 arrived between due-soon and overdue.
    croydon_q2 = {s[3] for s in sent if s[1] == "Croydon" and s[2] == "Q2 2024/25"}
    assert croydon_q2 == {"quarter-ended", "due-soon"}
    # Leeds never sends: each quarter escalates as its second missing one, managers copied.
    leeds = {(s[2], s[3]) for s in sent if s[1] == "Leeds" and s[4] == "nia@national.example"}
    assert leeds == {(q.label, "second-quarter-missing") for q in STAGE_DATES}
