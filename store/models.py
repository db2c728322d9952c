"""The tables: the registry (Maracs, contacts), submissions and their issues, meetings with
versions, and held changes awaiting confirmation.

Counts are nullable integers everywhere: blank (not collected) is NULL, never 0. A meeting
(Marac + date) is never overwritten: a change adds a version and the old one stays, with the
time it stopped being current, so "as it stood on date X" and "where did this number come from"
both have answers. One current version per meeting is a database constraint (a partial unique
index), not a convention, so that racing processes cannot both win.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum, StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kernel.quarters import Quarter
from store.base import Base
from store.types import UTCDateTime, utcnow
from validation.columns import COUNT_KEYS


class Role(StrEnum):
    """What a contact may do (spec §6)."""

    COORDINATOR = "coordinator"
    CHAIR = "chair"
    MANAGER = "manager"
    ADMIN = "admin"


class HeldStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"  # applied as a new version
    KEPT = "kept"  # the submitter chose to keep the stored figures
    EXPIRED = "expired"
    SUPERSEDED = "superseded"  # a newer held change from the same sender replaced it
    WITHDRAWN = "withdrawn"  # its submission was withdrawn before anyone confirmed it


def quarter_label(meeting_date: date) -> str:
    """The canonical label of the quarter a meeting belongs to ("Q3 2024/25")."""
    return Quarter.containing(meeting_date).label


def _in(values: type[Enum]) -> str:
    return ", ".join(f"'{v.value}'" for v in values)


contact_maracs = Table(
    "contact_maracs",
    Base.metadata,
    Column("contact_id", ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True),
    Column("marac_id", ForeignKey("maracs.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_contact_maracs_marac_id", "marac_id"),
)


class Marac(Base):
    __tablename__ = "maracs"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    # The name reduced for matching (store.names.name_key): two Maracs may not share it.
    name_key: Mapped[str] = mapped_column(String(200), unique=True)
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    police_force_area: Mapped[str] = mapped_column(String(200), index=True)
    region: Mapped[str] = mapped_column(String(200), index=True)
    nation: Mapped[str] = mapped_column(String(100))
    local_authorities: Mapped[list[str]] = mapped_column(JSON, default=list)
    adult_female_population: Mapped[int | None] = mapped_column(Integer)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    # Set when a full registry (`registry import --replace`) no longer lists it; data kept.
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    contacts: Mapped[list[Contact]] = relationship(
        secondary=contact_maracs, back_populates="maracs"
    )

    def __repr__(self) -> str:
        return f"Marac({self.name!r})"


class Contact(Base):
    __tablename__ = "contacts"
    __table_args__ = (
        CheckConstraint(f"role IN ({_in(Role)})", name="role"),
        CheckConstraint("email = lower(email)", name="email_lower"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    slack_user_id: Mapped[str | None] = mapped_column(String(50), unique=True)
    teams_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    channels: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["email"])
    # A manager's scope besides named Maracs: region or police force area names, or "*".
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Teams needs a stored conversation reference to message someone first (reminders).
    teams_reference: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    # Set when a full registry (`registry import --replace`) no longer lists them.
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    maracs: Mapped[list[Marac]] = relationship(
        secondary=contact_maracs, back_populates="contacts", order_by="Marac.name"
    )

    def __repr__(self) -> str:
        return f"Contact({self.email!r}, {self.role!r})"


class Submission(Base):
    """One file as received, kept whole (raw bytes) with what was found in it."""

    __tablename__ = "submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    sender: Mapped[str] = mapped_column(String(320), index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    filename: Mapped[str] = mapped_column(String(500))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    # The file itself, in the same transaction as its record: no orphan files, no lost ones.
    raw: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    edition: Mapped[str | None] = mapped_column(String(20))
    declared_quarter: Mapped[str | None] = mapped_column(String(12))
    confirm: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(30))
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    rows_accepted: Mapped[int] = mapped_column(Integer, default=0)
    rows_rejected: Mapped[int] = mapped_column(Integer, default=0)
    rows_held: Mapped[int] = mapped_column(Integer, default=0)
    rows_unchanged: Mapped[int] = mapped_column(Integer, default=0)
    # Message-ID + attachment hash (or a chat event id): a second delivery records nothing.
    dedupe_key: Mapped[str | None] = mapped_column(String(500), unique=True)
    # How the figures came in: a "file", or a meeting entered by hand, a "form" (Slack modal,
    # Teams card) or a "sentence" (an amendment in words); its raw holds the values entered.
    kind: Mapped[str] = mapped_column(String(10), default="file", server_default="file")
    # Withdrawn (issue 13): its figures were replaced by those before it; nothing deleted.
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_by: Mapped[str | None] = mapped_column(String(320))

    issues: Mapped[list[SubmissionIssue]] = relationship(
        back_populates="submission",
        order_by="SubmissionIssue.position",
        cascade="all, delete-orphan",
    )

    def __repr__(self) -> str:
        return f"Submission({self.id}, {self.filename!r}, {self.status!r})"


class SubmissionIssue(Base):
    __tablename__ = "submission_issues"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(50), index=True)
    severity: Mapped[str] = mapped_column(String(10))
    sheet: Mapped[str | None] = mapped_column(String(200))
    cell: Mapped[str | None] = mapped_column(String(20))
    row: Mapped[int | None] = mapped_column(Integer)
    column: Mapped[str | None] = mapped_column(String(200))
    value: Mapped[str | None] = mapped_column(Text)
    message: Mapped[str] = mapped_column(Text)

    submission: Mapped[Submission] = relationship(back_populates="issues")


class Meeting(Base):
    """A Marac meeting: its identity only. The figures live in its versions."""

    __tablename__ = "meetings"
    __table_args__ = (
        UniqueConstraint("marac_id", "meeting_date", name="uq_meetings_marac_date"),
        Index("ix_meetings_quarter_marac", "quarter", "marac_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    marac_id: Mapped[int] = mapped_column(ForeignKey("maracs.id", ondelete="RESTRICT"))
    meeting_date: Mapped[date] = mapped_column(Date)
    # Given by the date alone (spec §2); stored so quarter questions need no date arithmetic.
    quarter: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    marac: Mapped[Marac] = relationship()
    versions: Mapped[list[MeetingVersion]] = relationship(
        back_populates="meeting", order_by="MeetingVersion.version"
    )


class MeetingVersion(Base):
    """The figures of a meeting as one submission gave them."""

    __tablename__ = "meeting_versions"
    __table_args__ = (
        UniqueConstraint("meeting_id", "version", name="uq_meeting_versions_meeting_version"),
        # The race guard: at most one current version per meeting, on both databases.
        Index(
            "uq_meeting_versions_current",
            "meeting_id",
            unique=True,
            sqlite_where=text("is_current"),
            postgresql_where=text("is_current"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="RESTRICT"))
    version: Mapped[int] = mapped_column(Integer)
    is_current: Mapped[bool] = mapped_column(Boolean)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submissions.id", ondelete="RESTRICT"), index=True
    )
    sheet: Mapped[str | None] = mapped_column(String(200))
    sheet_row: Mapped[int | None] = mapped_column(Integer)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str] = mapped_column(String(320))
    # Set on a version that restores the figures before a withdrawn submission: that submission.
    withdrawal_of: Mapped[int | None] = mapped_column(
        ForeignKey("submissions.id", ondelete="RESTRICT")
    )

    # The 30 counts, C–AF, named by validation.columns.COUNT_KEYS (a test keeps them in step).
    cases: Mapped[int | None] = mapped_column(Integer)
    repeat_cases: Mapped[int | None] = mapped_column(Integer)
    children: Mapped[int | None] = mapped_column(Integer)
    cases_with_children: Mapped[int | None] = mapped_column(Integer)
    ref_police: Mapped[int | None] = mapped_column(Integer)
    ref_idva: Mapped[int | None] = mapped_column(Integer)
    ref_childrens_social_care: Mapped[int | None] = mapped_column(Integer)
    ref_primary_care: Mapped[int | None] = mapped_column(Integer)
    ref_secondary_care: Mapped[int | None] = mapped_column(Integer)
    ref_education: Mapped[int | None] = mapped_column(Integer)
    ref_housing: Mapped[int | None] = mapped_column(Integer)
    ref_mental_health: Mapped[int | None] = mapped_column(Integer)
    ref_probation: Mapped[int | None] = mapped_column(Integer)
    ref_voluntary_sector: Mapped[int | None] = mapped_column(Integer)
    ref_substance_misuse: Mapped[int | None] = mapped_column(Integer)
    ref_adult_social_care: Mapped[int | None] = mapped_column(Integer)
    ref_mash: Mapped[int | None] = mapped_column(Integer)
    ref_other: Mapped[int | None] = mapped_column(Integer)
    minoritised: Mapped[int | None] = mapped_column(Integer)
    lgbtq: Mapped[int | None] = mapped_column(Integer)
    disabled: Mapped[int | None] = mapped_column(Integer)
    male: Mapped[int | None] = mapped_column(Integer)
    aged_16_17: Mapped[int | None] = mapped_column(Integer)
    harming_under_18: Mapped[int | None] = mapped_column(Integer)
    aged_65_plus: Mapped[int | None] = mapped_column(Integer)
    eth_asian: Mapped[int | None] = mapped_column(Integer)
    eth_black: Mapped[int | None] = mapped_column(Integer)
    eth_mixed: Mapped[int | None] = mapped_column(Integer)
    eth_other_white: Mapped[int | None] = mapped_column(Integer)
    eth_any_other: Mapped[int | None] = mapped_column(Integer)

    meeting: Mapped[Meeting] = relationship(back_populates="versions")
    submission: Mapped[Submission] = relationship(foreign_keys=[submission_id])

    @property
    def counts(self) -> dict[str, int | None]:
        """The 30 counts by key, blank kept as None."""
        return {key: getattr(self, key) for key in COUNT_KEYS}

    def set_counts(self, counts: dict[str, int | None]) -> None:
        for key in COUNT_KEYS:
            setattr(self, key, counts.get(key))


class HeldChange(Base):
    """Changed figures for a stored meeting, waiting for the submitter to confirm them."""

    __tablename__ = "held_changes"
    __table_args__ = (
        CheckConstraint(f"status IN ({_in(HeldStatus)})", name="status"),
        Index("ix_held_changes_status_expires", "status", "expires_at"),
        Index("ix_held_changes_meeting_status", "meeting_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="RESTRICT"))
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submissions.id", ondelete="RESTRICT"), index=True
    )
    sender: Mapped[str] = mapped_column(String(320), index=True)
    # All 30 keys, blank as null: applied as a whole version on confirmation.
    counts: Mapped[dict[str, int | None]] = mapped_column(JSON)
    sheet: Mapped[str | None] = mapped_column(String(200))
    sheet_row: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default=HeldStatus.PENDING.value)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    meeting: Mapped[Meeting] = relationship()
    submission: Mapped[Submission] = relationship()


class Explanation(Base):
    """A reason given for a soft issue instead of changing the figure (issue 13): kept with the
    meeting (when the issue is on a row) and the issue's code and cell, shown in its history."""

    __tablename__ = "explanations"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submissions.id", ondelete="RESTRICT"), index=True
    )
    meeting_id: Mapped[int | None] = mapped_column(
        ForeignKey("meetings.id", ondelete="RESTRICT"), index=True
    )
    code: Mapped[str] = mapped_column(String(50))
    cell: Mapped[str | None] = mapped_column(String(20))
    column: Mapped[str | None] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    explained_by: Mapped[str] = mapped_column(String(320))
    explained_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StoreFacts(Base):
    """Facts about the store itself, one row: when it was created (migration 0006). With
    MARAC_TRACK_FROM unset, tracking starts at the first quarter ending after it.

    ``message_id_token`` (migration 0014) is a random token of this store, mixed into the
    Message-ID of every email it sends, so no other installation, nor this one after its
    database is made anew, sends a message with the same Message-ID. Outbox items up to
    ``legacy_message_ids_through`` were queued before it, with Message-IDs made from their
    key alone; a reply naming one of those is still recognised (store.facts)."""

    __tablename__ = "store_facts"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    message_id_token: Mapped[str | None] = mapped_column(String(32))
    legacy_message_ids_through: Mapped[int | None] = mapped_column(Integer)


class ReminderLog(Base):
    """One reminder (or managers' digest) decided for one contact: the exactly-once guard.

    Written in the same transaction as the outbox items that carry it, so a reminder is either
    logged and queued or neither. The unique key is the real guarantee against a second copy
    (a restart, a catch-up run, two processes at once); a managers' digest concerns no single
    Marac (``marac_id`` NULL), and NULLs never collide in a unique constraint, so a partial
    unique index covers those rows.
    """

    __tablename__ = "reminder_log"
    __table_args__ = (
        UniqueConstraint("marac_id", "quarter", "stage", "contact_id", name="uq_reminder_log_key"),
        Index(
            "uq_reminder_log_digest_key",
            "quarter",
            "stage",
            "contact_id",
            unique=True,
            sqlite_where=text("marac_id IS NULL"),
            postgresql_where=text("marac_id IS NULL"),
        ),
        Index("ix_reminder_log_quarter", "quarter"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    marac_id: Mapped[int | None] = mapped_column(ForeignKey("maracs.id", ondelete="CASCADE"))
    quarter: Mapped[str] = mapped_column(String(12))
    stage: Mapped[str] = mapped_column(String(40))
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    # How it went out ("email", "email;slack") and when it was decided, for an operator.
    channels: Mapped[str] = mapped_column(String(60))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"ReminderLog({self.marac_id}, {self.quarter!r}, {self.stage!r}, {self.contact_id})"


# Dashboard questions (handlers/questions): the figures a quarter or a year is summed over,
# kept beside each meeting's current flag, so totals read this narrow index instead of the
# 40-column version rows (SQLite uses it as a covering index; PostgreSQL for index-only scans).
QUESTION_FIGURES = ("cases", "repeat_cases", "ref_police", "children", "cases_with_children")
Index(
    "ix_meeting_versions_current_figures",
    MeetingVersion.meeting_id,
    MeetingVersion.is_current,
    *(getattr(MeetingVersion, key) for key in QUESTION_FIGURES),
)


class WebSignIn(Base):
    """A one-time dashboard sign-in link (issue 15): only a hash of its token is kept, so a
    copy of the database opens no session; used once, then ``used_at`` is set."""

    __tablename__ = "web_signin_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebSession(Base):
    """A signed-in dashboard session: the cookie carries the token, the row its contact and
    expiry (checked on every request, so removing a contact ends their sessions)."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TeamMessage(Base):
    """A message the bot could not deal with itself and kept for the data team ("our
    coordinator is on leave, Q3 will be late", "please update your records"): who wrote,
    when, on which channel, and what they said, listed on the operator page.

    ``inbound_id`` names the inbox item it came in as, without a foreign key: housekeeping
    may clear handled inbox items long before the data team is done with the message."""

    __tablename__ = "team_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    inbound_id: Mapped[int | None] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    channel: Mapped[str] = mapped_column(String(20))
    sender: Mapped[str] = mapped_column(String(320))  # their registered address
    sender_name: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text)
