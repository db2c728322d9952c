"""PostgreSQL: a message's bytes, as received and as sent, are stored without compression.

A message is mostly base64 (its attachments: a workbook, an annotated copy), which PostgreSQL's
built-in compression cannot shrink by the quarter it needs to keep the result. It still tried
on every message over 2 kB: its first kilobyte, the mail headers, compresses, so it went on
through the whole message and then threw the work away. Measured with the server's own
statement timings over 50 six-row returns, the insert of each reply fell from about 0.47 ms to
0.17-0.25 ms of server time (issue 14, per-message work). Storing a message's bytes as they
are costs no space that compression was saving, by the same rule.

Submitted files (``submissions.raw``) keep compression: a CSV of 50,000 rows does shrink, and
an .xlsx (already deflated) is given up on within its first kilobyte.

SQLite has no such setting: nothing changes there.

Revision ID: 0016_mail_bytes_uncompressed
Revises: 0015_team_messages
"""

from __future__ import annotations

from alembic import op

revision = "0016_mail_bytes_uncompressed"
down_revision = "0015_team_messages"
branch_labels = None
depends_on = None

_COLUMNS = (("inbound_raw", "raw"), ("outbound_payload", "payload"))


def upgrade() -> None:
    _set_storage("EXTERNAL")  # out of line when large, never compressed


def downgrade() -> None:
    _set_storage("EXTENDED")  # bytea's default


def _set_storage(storage: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column in _COLUMNS:  # new rows only: rows already stored stay as they are
        op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET STORAGE {storage}")
