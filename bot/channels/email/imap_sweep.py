"""One pass over the watched IMAP folder: store what is new, file away what is finished.

A message is handed to the durable inbox under ``imap:<uidvalidity>:<uid>``; it is moved to
``Processed`` or ``Rejected`` only once the inbox reports its outcome committed. Nothing is ever
deleted. Filing never stops storing: a move the server refuses is re-checked (another process
may have filed the message: ``NO [EXPUNGEISSUED]``), and a folder that cannot be written is
reported in the sweep's result while new mail is still stored and answered.

UIDs mean nothing once the folder's UIDVALIDITY changes, so every message is also
known by its content (Message-ID + sha256 of the raw bytes): a message already handed over
under an old UID keeps its old key instead of being handed over twice.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from email.policy import compat32
from typing import Protocol

from imap_tools import BaseMailBox
from imap_tools.errors import (
    ImapToolsError,
    MailboxCopyError,
    MailboxDeleteError,
    MailboxFetchError,
    MailboxFolderSelectError,
    MailboxMoveError,
)
from imap_tools.utils import check_command_status

logger = logging.getLogger(__name__)

OUTCOME_FOLDERS = ("processed", "rejected")
# What a refused MOVE (or COPY + delete, without MOVE) raises: the server answered NO; the
# session is fine, so it is answered by a re-check, never by a reconnect.
FILING_REFUSED = (MailboxMoveError, MailboxCopyError, MailboxDeleteError)
# Response codes that say the messages were expunged meanwhile (RFC 5530), by another session.
RACE_CODES = (b"EXPUNGEISSUED", b"NONEXISTENT")


class MailboxQueue(Protocol):
    """The durable inbox, as the IMAP watcher sees it."""

    def enqueue(self, raw: bytes, *, source_key: str) -> None:
        """Store ``raw``; durable and committed on return; a known source_key is a no-op."""
        ...

    def finished(self, source_keys: Sequence[str]) -> dict[str, str]:
        """For keys whose outcome is committed: ``"processed"`` or ``"rejected"``."""
        ...

    def mark_moved(self, source_key: str) -> None:
        """Record that the message has been filed in its outcome folder."""
        ...


@dataclass(frozen=True)
class Folders:
    watched: str
    processed: str
    rejected: str

    def for_outcome(self, outcome: str) -> str | None:
        return {"processed": self.processed, "rejected": self.rejected}.get(outcome)


@dataclass
class SweepState:
    """What the watcher remembers between sweeps and across reconnects (not restarts)."""

    uidvalidity: int | None = None
    keys: dict[str, str] = field(default_factory=dict)  # uid -> source_key, this uidvalidity
    identities: dict[tuple[str, str], str] = field(default_factory=dict)  # content -> key


@dataclass(frozen=True)
class SweepResult:
    enqueued: int
    moved: int
    waiting: int  # still in the folder, outcome not yet committed
    filing_error: str | None = None  # why finished messages could not be filed this time


def source_key(uidvalidity: int, uid: str) -> str:
    return f"imap:{uidvalidity}:{uid}"


def identity_of(raw: bytes) -> tuple[str, str]:
    """Message-ID and sha256 of the raw bytes: the same message under any UID."""
    headers = BytesHeaderParser(policy=compat32).parsebytes(raw)
    message_id = str(headers.get("Message-ID", "")).strip()
    return message_id, hashlib.sha256(raw).hexdigest()


def sweep(
    mailbox: BaseMailBox, queue: MailboxQueue, state: SweepState, folders: Folders, *,
    file: bool = True,
) -> SweepResult:
    """Select the folder, enqueue every message not yet handed over, move finished ones
    (unless ``file`` is False: the outcome folders are not there to move into)."""
    uidvalidity = select_folder(mailbox, folders.watched)
    if state.uidvalidity is not None and uidvalidity != state.uidvalidity:
        logger.warning(
            "UIDVALIDITY of %s changed from %s to %s: matching messages by content",
            folders.watched, state.uidvalidity, uidvalidity,
        )
        state.keys.clear()
    state.uidvalidity = uidvalidity
    # UIDs first, then one message at a time: a message arriving meanwhile waits for the next
    # sweep instead of shifting sequence numbers under us.
    uids = mailbox.uids("ALL", charset=None)
    present = set(uids)
    for uid in [uid for uid in state.keys if uid not in present]:
        del state.keys[uid]  # moved or deleted by someone else
    enqueued = sum(_hand_over(mailbox, queue, state, uid) for uid in uids if uid not in state.keys)
    moved, error = move_finished(mailbox, queue, state, folders) if file else (0, None)
    _prune_identities(state)
    return SweepResult(enqueued=enqueued, moved=moved, waiting=len(state.keys),
                       filing_error=error)


def move_finished(
    mailbox: BaseMailBox, queue: MailboxQueue, state: SweepState, folders: Folders
) -> tuple[int, str | None]:
    """Move every message whose outcome is committed; how many were moved, and why some
    could not be (they stay in the folder, tried again at the next sweep)."""
    if not state.keys:
        return 0, None
    outcomes = queue.finished(sorted(set(state.keys.values())))
    by_folder: dict[str, list[str]] = {}
    for uid, key in state.keys.items():
        outcome = outcomes.get(key)
        if outcome is None:
            continue
        target = folders.for_outcome(outcome)
        if target is None:
            logger.error("unknown outcome %r for %s; left in %s", outcome, key, folders.watched)
            continue
        by_folder.setdefault(target, []).append(uid)
    moved, errors = 0, []
    for target, uids in by_folder.items():
        done, error = _file(mailbox, queue, state, target, uids)
        moved += done
        if error is not None:
            errors.append(error)
    return moved, "; ".join(errors) or None


def _file(mailbox: BaseMailBox, queue: MailboxQueue, state: SweepState, target: str,
          uids: list[str]) -> tuple[int, str | None]:
    """Move ``uids`` into ``target``. A refusal is re-checked: messages gone from the folder
    were filed by another session (nothing to do, and never filed twice); for the rest, a
    race is tried once more, and anything else (no such folder, no right to write it) is
    returned as the filing error."""
    try:
        mailbox.move(uids, target)
    except FILING_REFUSED as exc:
        still = _still_here(mailbox, uids)
        _filed(queue, state, [uid for uid in uids if uid not in still])
        if not still:
            logger.info("IMAP: %d message(s) already filed by another session", len(uids))
            return 0, None
        if not _is_race(exc):
            return 0, f"cannot file into {target}: {response_text(exc)}"
        try:
            mailbox.move(still, target)
        except FILING_REFUSED as again:
            return 0, f"cannot file into {target}: {response_text(again)}"
        uids = still
    _filed(queue, state, uids)
    return len(uids), None


def _still_here(mailbox: BaseMailBox, uids: list[str]) -> list[str]:
    """Which of ``uids`` are still in the selected folder (a UID SEARCH, nothing fetched)."""
    present = set(mailbox.uids("ALL", charset=None))
    return [uid for uid in uids if uid in present]


def _filed(queue: MailboxQueue, state: SweepState, uids: list[str]) -> None:
    for key in {state.keys.pop(uid) for uid in uids if uid in state.keys}:
        queue.mark_moved(key)


def _is_race(exc: ImapToolsError) -> bool:
    text = response_text(exc).encode(errors="replace").upper()
    return any(code in text for code in RACE_CODES)


def response_text(exc: ImapToolsError) -> str:
    """The server's words from a refused command (``NO [TRYCREATE] Mailbox doesn't exist``)."""
    result = getattr(exc, "command_result", None)
    if not result or len(result) < 2:
        return str(exc)
    data = result[1]
    parts = data if isinstance(data, list) else [data]
    words = [part.decode(errors="replace") if isinstance(part, bytes) else str(part)
             for part in parts if part]
    return f"{result[0]} {' '.join(words)}".strip()


def select_folder(mailbox: BaseMailBox, folder: str) -> int:
    """SELECT the folder (read-write) and return its UIDVALIDITY."""
    mailbox.folder.set(folder)
    # SELECT must report UIDVALIDITY (RFC 3501 6.3.1); imaplib keeps it among the responses.
    _typ, data = mailbox.client.response("UIDVALIDITY")
    values = [item for item in data if item]
    if not values:
        raise MailboxFolderSelectError((f"no UIDVALIDITY for {folder}", data), "UIDVALIDITY")
    return int(values[-1])


def prepare_folders(
    mailbox: BaseMailBox, *, watched: str, processed: str, rejected: str
) -> Folders:
    """Resolve the outcome folders' names on this server and create any that are missing.

    ``processed``/``rejected`` use ``/`` between levels ("Marac/Processed"); it becomes the
    server's own delimiter, under the personal namespace prefix when the server has one
    ("INBOX." on some Courier-style servers).
    """
    folders = resolve_folders(mailbox, watched=watched, processed=processed, rejected=rejected)
    create_missing(mailbox, folders)
    return folders


def resolve_folders(
    mailbox: BaseMailBox, *, watched: str, processed: str, rejected: str
) -> Folders:
    """The outcome folders' names on this server (nothing created)."""
    prefix, delimiter = personal_namespace(mailbox)
    return Folders(
        watched=watched,
        processed=server_folder_name(processed, prefix=prefix, delimiter=delimiter),
        rejected=server_folder_name(rejected, prefix=prefix, delimiter=delimiter),
    )


def create_missing(mailbox: BaseMailBox, folders: Folders) -> None:
    """Create the outcome folders that do not exist; raises ``MailboxFolderCreateError``
    (the server said NO: no right to, a name it refuses) for the caller to report."""
    for name in (folders.processed, folders.rejected):
        if not mailbox.folder.exists(name):
            mailbox.folder.create(name)
            logger.info("created IMAP folder %s", name)
            try:
                mailbox.folder.subscribe(name, True)
            except ImapToolsError as exc:  # only mail clients care; the watcher does not
                logger.info("could not subscribe to %s: %s", name, exc)


_NAMESPACE = re.compile(rb'^\(\("((?:[^"\\]|\\.)*)" (?:"((?:[^"\\]|\\.)*)"|NIL)\)')


def personal_namespace(mailbox: BaseMailBox) -> tuple[str, str]:
    """(prefix, delimiter) of the personal namespace; ("", delimiter) without NAMESPACE."""
    if "NAMESPACE" in mailbox.client.capabilities:
        typ, data = mailbox.client.namespace()
        parsed = parse_namespace(data[0]) if typ == "OK" and data and data[0] else None
        if parsed is not None:
            return parsed
    roots = mailbox.folder.list("", "")  # LIST "" "" answers with the hierarchy delimiter
    delimiter = roots[0].delim if roots else "/"
    return "", "" if delimiter.upper() == "NIL" else delimiter


def parse_namespace(response: bytes) -> tuple[str, str] | None:
    """The first personal namespace of a NAMESPACE response: b'(("INBOX." ".")) NIL NIL'."""
    match = _NAMESPACE.match(response)
    if match is None:
        return None
    prefix, delimiter = (group.decode() if group else "" for group in match.groups())
    return prefix, delimiter


def server_folder_name(name: str, *, prefix: str, delimiter: str) -> str:
    path = delimiter.join(name.split("/")) if delimiter else name
    return path if not prefix or path.startswith(prefix) else prefix + path


def fetch_raw(mailbox: BaseMailBox, uid: str) -> bytes | None:
    """The message's RFC 822 bytes exactly as stored, without setting \\Seen; None if gone."""
    result = mailbox.client.uid("FETCH", uid, "(BODY.PEEK[])")
    check_command_status(result, MailboxFetchError)
    wanted = re.compile(rb"\bUID " + uid.encode() + rb"\b")
    for item in result[1]:
        if isinstance(item, tuple) and b"BODY[]" in item[0] and wanted.search(item[0]):
            return bytes(item[1])
    return None


def _hand_over(mailbox: BaseMailBox, queue: MailboxQueue, state: SweepState, uid: str) -> int:
    """Enqueue one message unless its content is already queued; 1 if it was enqueued."""
    raw = fetch_raw(mailbox, uid)
    if raw is None:  # expunged by someone else since the UID SEARCH
        return 0
    identity = identity_of(raw)
    known = state.identities.get(identity)
    if known is not None:
        state.keys[uid] = known
        return 0
    assert state.uidvalidity is not None
    key = source_key(state.uidvalidity, uid)
    queue.enqueue(raw, source_key=key)
    state.keys[uid] = key
    state.identities[identity] = key
    logger.info("stored IMAP message %s (%d bytes)", key, len(raw))
    return 1


def _prune_identities(state: SweepState) -> None:
    """Keep content identities only for messages still in the folder (bounded memory)."""
    live = set(state.keys.values())
    for identity in [i for i, key in state.identities.items() if key not in live]:
        del state.identities[identity]
