"""IMAP IDLE (RFC 2177) that can be interrupted from another thread within a bounded delay.

imap-tools' ``idle.wait`` blocks for its whole timeout and cannot tell "nothing happened" from
"the server hung up" (it swallows EOF), so the watcher drives IDLE itself: send IDLE, then
``poll()`` the socket in short slices, between which it asks ``interrupted()``; any input from
the server (new mail, expunge, BYE, EOF) ends the wait, and DONE then reads it all (an EOF or
BYE surfaces there as ``imaplib.IMAP4.abort``).
"""

from __future__ import annotations

import imaplib
import io
import select
import ssl
import time
from collections.abc import Callable
from typing import cast

from imap_tools import BaseMailBox

# imaplib knows no IDLE command; imap_tools registers it on import the same way.
imaplib.Commands.setdefault("IDLE", ("NONAUTH", "AUTH", "SELECTED"))


def idle_until(
    mailbox: BaseMailBox, *, deadline: float, check_every: float,
    interrupted: Callable[[], bool],
) -> bool:
    """IDLE until the server speaks, ``interrupted()`` is true, or ``time.monotonic()``
    reaches ``deadline``. True if the server spoke (something changed: sweep now)."""
    tag, activity = _begin(mailbox)
    try:
        while not (activity or interrupted()):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            activity = _input_waiting(mailbox, min(check_every, remaining))
    finally:
        _end(mailbox, tag)
    return activity


def _begin(mailbox: BaseMailBox) -> tuple[bytes, bool]:
    """Send IDLE; (tag, True if the server already said something before '+ idling')."""
    client = mailbox.client
    tag = client._command("IDLE")
    activity = False
    while client._get_response() is not None:  # None is the continuation: IDLE has begun
        if client.tagged_commands.get(tag):
            raise imaplib.IMAP4.error(f"IDLE refused: {client.tagged_commands.pop(tag)!r}")
        activity = True  # an untagged EXISTS/EXPUNGE that came just before the continuation
    return tag, activity or _buffered(mailbox)


def _end(mailbox: BaseMailBox, tag: bytes) -> None:
    mailbox.client.send(b"DONE\r\n")
    mailbox.consume_until_tagged_response(tag)


def _input_waiting(mailbox: BaseMailBox, timeout: float) -> bool:
    """True if the server sent something (or hung up) within ``timeout`` seconds."""
    sock = mailbox.client.sock
    if isinstance(sock, ssl.SSLSocket) and sock.pending():
        return True
    poller = select.poll()
    poller.register(sock.fileno(), select.POLLIN | select.POLLPRI)
    return bool(poller.poll(max(0, int(timeout * 1000))))


def _buffered(mailbox: BaseMailBox) -> bool:
    """Whether imaplib's reader already holds bytes that the socket will not signal again
    (the server sent an update in the same packet as '+ idling')."""
    sock = mailbox.client.sock
    previous = sock.gettimeout()
    sock.settimeout(0)  # peek must not block: with nothing buffered it tries one socket read
    try:
        return bool(cast(io.BufferedReader, mailbox.client.file).peek(1))
    except (BlockingIOError, ssl.SSLWantReadError):
        return False
    finally:
        sock.settimeout(previous)
