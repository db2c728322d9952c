"""The key that signs dashboard sessions and sign-in links: ``MARAC_SECRET_KEY``, or one made
once and kept (mode 0600) in the data folder, so the embedded defaults work and a restart does
not sign everybody out."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from bot.settings import Settings

KEY_FILE = "secret_key"


def secret_key(settings: Settings) -> bytes:
    """The configured key, else the kept one (made now if there is none)."""
    if settings.secret_key:
        return settings.secret_key.encode()
    path = settings.data_dir / KEY_FILE
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        return _create(path)


def _create(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48).encode()
    try:
        # O_EXCL: two processes starting at once keep one key, the second reads the first's.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as out:
        out.write(key + b"\n")
    return key
