"""Rate limits on asking for sign-in links: per address (nobody's inbox is flooded) and per
client (nobody tries addresses by the thousand). Kept in memory: a restart forgets them, which
costs an attacker nothing they could not get by waiting a window out."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

# At most this many requests in the window, per key.
PER_ADDRESS = (5, 15 * 60.0)
PER_CLIENT = (20, 15 * 60.0)
_MAX_KEYS = 50_000  # a flood of distinct keys cannot grow memory without bound


@dataclass
class RateLimit:
    limit: int
    window: float
    clock: Callable[[], float] = time.monotonic
    _seen: dict[str, deque[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def allow(self, key: str) -> bool:
        """Count one request for ``key``; False once it is over the limit in the window."""
        now = self.clock()
        with self._lock:
            times = self._seen.setdefault(key, deque())
            while times and times[0] <= now - self.window:
                times.popleft()
            if len(times) >= self.limit:
                return False
            times.append(now)
            if len(self._seen) > _MAX_KEYS:
                self._forget_idle(now)
            return True

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, t in self._seen.items() if not t or t[-1] <= now - self.window]:
            del self._seen[key]
