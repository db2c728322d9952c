"""What the store does differently for a meeting entered by hand (issue 16): nothing but its
place. A form or a sentence has no sheet and no row, so its versions and held changes carry
none, and history names the form (the submission's filename) without a "row 2"."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from store.models import HeldChange, MeetingVersion


def clear_sheet_place(session: Session, submission_id: int) -> None:
    """Forget the one-row sheet a hand-entered meeting was checked as, in its records."""
    for model in (MeetingVersion, HeldChange):
        session.execute(
            update(model)
            .where(model.submission_id == submission_id)
            .values(sheet=None, sheet_row=None)
            .execution_options(synchronize_session="fetch")
        )
