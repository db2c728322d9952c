"""Benchmark (not a test): the queues' own upkeep per message, by how many messages wait and
how large they are (store/queue.py, migration 0012).

    python bench/queue_bench.py [--sizes 9,60,600] [--waiting 400,1100]
                                [--backends sqlite,postgresql] [--repeat 3]

For each case, ``waiting`` messages of ``size`` KB are queued at once (a deadline-day burst),
then each goes through what the worker and the outbox do with it, each step in its own
transaction as there: claimed; its claim held, the message finished and a reply of the same
size queued; the reply found due and marked sent. No validation, no reply rendering: the
figure is the queues' share of every message's work. Median of ``--repeat`` runs, ms per
message. PostgreSQL runs in a fresh database of the server at MARAC_BENCH_POSTGRES_URL.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from burst_support import database  # noqa: E402

from store.db import Store  # noqa: E402
from store.queue import (  # noqa: E402
    due_outbound,
    enqueue_inbound,
    enqueue_outbound,
    finish_inbound,
    hold_claim,
    mark_sent,
    take_next_queued,
)
from store.types import utcnow  # noqa: E402

POSTGRES_ADMIN_URL = os.environ.get(
    "MARAC_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
WORKER = "bench-worker"


def upkeep_ms(store: Store, waiting: int, size_kb: int) -> float:
    """Milliseconds per message of queue upkeep, ``waiting`` messages of ``size_kb`` queued."""
    body = os.urandom(size_kb * 1024)
    with store.transaction() as session:
        for n in range(waiting):
            enqueue_inbound(session, channel="email", raw=body, source_key=f"bench:{n}",
                            received_at=utcnow())
    started = time.perf_counter()
    for _ in range(waiting):
        with store.standalone() as session:  # as the worker takes a queued message
            item = take_next_queued(session, worker=WORKER, stale_after=timedelta(minutes=5))
        assert item is not None and len(item.raw) == len(body)
        item_id = item.id
        with store.transaction() as session:
            assert hold_claim(session, item_id, worker=WORKER)
            finish_inbound(session, item_id, outcome="bench")
            enqueue_outbound(session, key=f"reply:{item_id}", channel="email",
                             recipient="coordinator@example.org", payload=body,
                             inbound_id=item_id)
        with store.transaction() as session:
            (reply,) = due_outbound(session, now=utcnow(), limit=1)
            assert len(reply.payload) == len(body)
            mark_sent(session, reply.id, now=utcnow())
    return (time.perf_counter() - started) / waiting * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="9,60,600", help="message sizes in KB")
    parser.add_argument("--waiting", default="400,1100", help="messages queued at once")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{'backend':<11} {'waiting':>7} {'size':>7} {'ms per message':>15}")
    for backend in args.backends.split(","):
        for waiting in (int(w) for w in args.waiting.split(",")):
            for size in (int(s) for s in args.sizes.split(",")):
                runs = []
                for _ in range(args.repeat):
                    with tempfile.TemporaryDirectory() as folder, \
                            database(backend, Path(folder), POSTGRES_ADMIN_URL) as url:
                        store = Store.open(url)
                        try:
                            runs.append(upkeep_ms(store, waiting, size))
                        finally:
                            store.close()
                print(f"{backend:<11} {waiting:>7} {size:>5}KB {statistics.median(runs):>13.2f}",
                      flush=True)


if __name__ == "__main__":
    main()
