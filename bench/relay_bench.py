"""Benchmark (not a test): handing replies to the relay, a new connection each against one
kept between sends (bot/channels/email/send.py, KEEP_SECONDS).

    python bench/relay_bench.py [-n 200]

The relay is an aiosmtpd sink in a process of its own on loopback, plain and with STARTTLS
and AUTH (a self-signed certificate). Each send is one 60 KB reply; "new connection each"
closes the kept connection after every send, as the bot did before. Loopback has no network
delay: a real relay adds its round trips to every connection opened, so the gap only grows
there. CPU is this process's alone (the sender's).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.channels.email.send import MailSender, RelayConfig
from bot.settings import HostPort
from tests.smtp_support import HOST, Certificate, client_context, make_certificate

# The sink's process: started with its options, it prints its port and runs until its
# standard input closes.
SINK = """
import sys
from pathlib import Path
sys.path.insert(0, {root!r})
from tests.smtp_support import Certificate, SmtpSink
tls, cert, key = sys.argv[1:4]
options = {{"tls": tls, "certificate": Certificate(Path(cert), Path(key)),
            "auth": ("bot", "s3cret")}} if tls else {{}}
with SmtpSink(**options) as sink:
    print(sink.port, flush=True)
    sys.stdin.read()
"""


@contextmanager
def sink_process(tls: str, certificate: Certificate) -> Iterator[int]:
    code = SINK.format(root=str(Path(__file__).resolve().parents[1]))
    with subprocess.Popen([sys.executable, "-c", code, tls, str(certificate.cert),
                           str(certificate.key)], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as sink:
        assert sink.stdout is not None and sink.stdin is not None
        yield int(sink.stdout.readline())
        sink.stdin.close()

REPLY = b"Subject: bench\r\n\r\n" + (b"x" * 76 + b"\r\n") * 780


def per_send_ms(config: RelayConfig, context: object, count: int, *,
                keep: bool) -> tuple[float, float]:
    """(median wall ms, CPU ms) per send over ``count`` sends."""
    sender = MailSender(relay=config, outbox_dir=Path("/nonexistent"), timeout=10,
                        ssl_context=context)  # type: ignore[arg-type]
    times = []
    cpu = time.process_time()
    for _ in range(count):
        started = time.perf_counter()
        sender.send(REPLY, recipients=["coordinator@example.org"], sender="marac@example.org")
        if not keep:
            sender.close()
        times.append(time.perf_counter() - started)
    cpu = time.process_time() - cpu
    sender.close()
    return statistics.median(times) * 1000, cpu * 1000 / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=200, help="sends per row (default 200)")
    count = parser.parse_args().n
    with tempfile.TemporaryDirectory() as folder:
        certificate = make_certificate(Path(folder))
        context = client_context(certificate)
        setups = {"plain": ("", None, None), "STARTTLS + AUTH": ("starttls", "bot", "s3cret")}
        print(f"{'relay':<18}{'new connection each':>22}{'kept':>22}   (median wall; CPU)")
        for name, (tls, user, password) in setups.items():
            with sink_process(tls, certificate) as port:
                config = RelayConfig(HostPort(HOST, port), tls or "none", user, password)
                per_send_ms(config, context, 10, keep=True)  # warm up
                new = per_send_ms(config, context, count, keep=False)
                kept = per_send_ms(config, context, count, keep=True)
            print(f"{name:<18}{new[0]:>9.2f} ms ({new[1]:5.2f} CPU){kept[0]:>9.2f} ms "
                  f"({kept[1]:5.2f} CPU)   {new[0] / kept[0]:.1f}x")


if __name__ == "__main__":
    main()
