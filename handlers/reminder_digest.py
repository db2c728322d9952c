"""The managers' digest: weekly in the weeks before a due date, to each admin (every Marac) and
manager (its scope), how many Maracs have uploaded the quarter and the upload grid of the year
(reports/grid.py, the same grid "grid London 2024/25" answers with).
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Mapping
from datetime import date

from sqlalchemy.orm import Session

from handlers.questions.grid_data import load_grid
from handlers.questions.registry import MaracEntry, RegistrySnapshot
from handlers.reminder_people import Overseer, ReminderRegistry
from handlers.reminder_plan import Notice, Recipient, Uploads
from handlers.reminder_policy import ReminderPolicy, open_digest, quarters_in_play
from handlers.working_days import WorkingDays
from kernel import wording
from kernel.quarters import Quarter
from reports.grid import to_text

logger = logging.getLogger(__name__)

# The grid of an overseer's Maracs for a quarter's financial year, as fixed-width text.
GridText = Callable[[Overseer, Quarter], str]


class DigestGrid:
    """Renders upload grids from the store; the registry is read once, on first use."""

    def __init__(self, session: Session, *, today: date, due_days: int) -> None:
        self.session = session
        self.today = today
        self.due_days = due_days
        self._entries: list[MaracEntry] | None = None

    def __call__(self, overseer: Overseer, quarter: Quarter) -> str:
        if self._entries is None:
            self._entries = list(RegistrySnapshot.load(self.session).maracs.values())
        entries = [e for e in self._entries if e.id in overseer.marac_ids]
        grid = load_grid(self.session, entries, quarter.financial_year, area=overseer.scope,
                         today=self.today, due_days=self.due_days,
                         every_marac=len(entries) == len(self._entries))
        return to_text(grid)


def plan_digests(
    registry: ReminderRegistry,
    uploads: Uploads,
    *,
    policy: ReminderPolicy,
    calendar: WorkingDays,
    today: date,
    grid: GridText,
) -> list[Notice]:
    """One digest per admin and manager for each quarter whose digest week opens today."""
    notices = []
    for quarter in reversed(quarters_in_play(policy, today)):
        stage = open_digest(policy, calendar, quarter, today=today)
        if stage is None:
            continue
        for overseer in registry.overseers:
            if overseer.marac_ids:
                notices.append(_notice(overseer, quarter, stage, uploads.get(quarter.label, {}),
                                       policy=policy, grid=grid))
    return notices


def _notice(
    overseer: Overseer,
    quarter: Quarter,
    stage: str,
    counts: Mapping[int, int],
    *,
    policy: ReminderPolicy,
    grid: GridText,
) -> Notice:
    due = policy.due_date(quarter)
    total = len(overseer.marac_ids)
    uploaded = len(overseer.marac_ids & counts.keys())
    table = grid(overseer, quarter)
    body = wording.digest_text(quarter=quarter.describe(), due=due, uploaded=uploaded,
                               total=total, table=table)
    return Notice(
        None, None, quarter, stage, (Recipient(overseer.person, copied=False),),
        wording.digest_subject(quarter=quarter.label, due=due, missing=total - uploaded,
                               total=total),
        text=body,
        chat_text=body.replace(table, f"```\n{table}\n```"),
        html=_html(body, table),
    )


def _html(body: str, table: str) -> str:
    """The body as HTML, the grid kept fixed-width (a proportional font would break it)."""
    before, _, after = body.partition(table)
    blocks = [f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>"
              for p in before.split("\n\n") if p.strip()]
    blocks.append(f"<pre>{html.escape(table)}</pre>")
    blocks += [f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>"
               for p in after.split("\n\n") if p.strip()]
    return ("<!DOCTYPE html>\n<html><body style=\"font-family: sans-serif\">\n"
            + "\n".join(blocks) + "\n</body></html>\n")
