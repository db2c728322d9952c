"""Benchmark (not a test): time from the end of DATA to the reply being handed to the relay.

    python bench/mail_latency.py [-n 50] [--fixture several_issues.xlsx] [--json]

Starts ``python -m bot run`` (SQLite in a temp dir, listeners on free ports) with
``MARAC_SMTP_RELAY`` pointing at an aiosmtpd sink in this process, then sends N templates from
the demo registry's Croydon coordinator one at a time, each waiting for its reply. For each:
from smtplib's ``sendmail`` returning (the listener's 250 after the message was committed) to
the sink receiving the reply (its DATA ended), both on this process's monotonic clock. Prints
the median, p95 and maximum; ``--json`` adds one JSON line for scripts.

The first message is sent and answered before timing starts (imports and caches warm up
once per process; a running bot pays that once).
"""

from __future__ import annotations

import argparse
import json
import smtplib
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.run_e2e_support import (
    COORDINATOR,
    MAILBOX,
    BotProcess,
    message_id_of,
    read_reply,
    submission,
)
from tests.smtp_support import HOST, SmtpSink

TIMEOUT = 60.0


def measure(count: int, fixture: str, workdir: Path) -> list[float]:
    """Seconds from end of DATA to the reply at the relay, for ``count`` messages."""
    with SmtpSink() as sink:
        env = {
            "MARAC_DATA_DIR": str(workdir / "data"),
            "MARAC_MAILBOX_ADDRESS": MAILBOX,
            "MARAC_SMTP_LISTEN": f"{HOST}:0",
            "MARAC_HTTP_LISTEN": f"{HOST}:0",
            "MARAC_SMTP_RELAY": f"{HOST}:{sink.port}",
        }
        with BotProcess(workdir / "work", env).start() as bot:
            one_round(bot.smtp_port, sink, fixture, expected=1)  # warm-up, not timed
            return [one_round(bot.smtp_port, sink, fixture, expected=n + 2)
                    for n in range(count)]


def one_round(port: int, sink: SmtpSink, fixture: str, *, expected: int) -> float:
    raw = submission(fixture)
    with smtplib.SMTP(HOST, port, timeout=TIMEOUT) as client:
        client.sendmail(COORDINATOR, [MAILBOX], raw)
        end_of_data = time.monotonic()
    mail = sink.wait_for(expected, timeout=TIMEOUT)[expected - 1]
    reply = read_reply(mail.data)
    if reply.in_reply_to != message_id_of(raw):
        raise RuntimeError(f"reply {expected} answers {reply.in_reply_to}, not this message")
    return mail.received_at - end_of_data


def summary(samples: list[float], fixture: str) -> dict[str, float | int | str]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "n": len(samples),
        "fixture": fixture,
        "median_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(p95 * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
        "min_ms": round(ordered[0] * 1000, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=50, help="templates to send (default 50)")
    parser.add_argument("--fixture", default="several_issues.xlsx",
                        help="workbook from tests/fixtures to attach (default: one with "
                        "issues, so each reply carries an annotated copy)")
    parser.add_argument("--json", action="store_true", help="also print one JSON line")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="marac-bench-") as temp:
        samples = measure(args.n, args.fixture, Path(temp))
    result = summary(samples, args.fixture)
    print(f"{result['n']} templates ({args.fixture}), end of DATA -> reply at the relay: "
          f"median {result['median_ms']} ms, p95 {result['p95_ms']} ms, "
          f"min {result['min_ms']} ms, max {result['max_ms']} ms")
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
