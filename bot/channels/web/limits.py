"""Rate limits on asking for sign-in links: per address (nobody's inbox is flooded) and per
client (nobody tries addresses by the thousand). Kept in memory: a restart forgets them, which
costs an attacker nothing they could not get by waiting a window out."""

from __future__ import annotations

import ipaddress
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

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


def networks(texts: Iterable[str]) -> tuple[Network, ...]:
    """Settings' trusted proxies (already checked by bot.settings) as networks."""
    return tuple(ipaddress.ip_network(t, strict=False) for t in texts)


def client_address(
    peer: str | None, forwarded_for: Sequence[str], trusted: Sequence[Network]
) -> str:
    """Whom a request is from, for its rate limit: the peer, unless the peer is a trusted
    proxy; then the X-Forwarded-For hops are read from the right (each proxy appends the
    address it saw) and the first one that is not itself a trusted proxy is the client.
    Hops to its left were written by the client and could be anything, so never read. A hop
    that is not an address ends the reading at the last one that was."""
    if not peer:
        return "-"
    if not _trusted(peer, trusted):
        return peer
    hops = [hop.strip() for header in forwarded_for for hop in header.split(",")]
    client = peer
    for hop in reversed(hops):
        try:
            client = str(ipaddress.ip_address(hop))
        except ValueError:
            return client
        if not _trusted(client, trusted):
            return client
    return client


def _trusted(address: str, trusted: Sequence[Network]) -> bool:
    try:
        found = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(found in network for network in trusted)
