"""A real Dovecot IMAP server for tests, run from a private configuration in a temp dir.

``DovecotServer`` starts ``dovecot -F -c FILE`` (Debian's dovecot-imapd) on free loopback ports:
plain IMAP with STARTTLS on ``port`` and implicit TLS on ``tls_port``, both with a self-signed
certificate for 127.0.0.1. Users live in a passwd-file with {PLAIN} passwords; ``new_account``
gives each test an empty mailbox of its own. Optionally a second passdb accepts XOAUTH2 bearer
tokens by asking an RFC 7662 introspection URL (see ``tests/entra_fake_support.py``).

Dovecot refuses to touch mail as root, so mail is owned by ``nobody`` when the tests run as
root; otherwise everything runs as the current user.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import grp
import imaplib
import ipaddress
import os
import pwd
import re
import secrets
import signal
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

DOVECOT = "/usr/sbin/dovecot"
DOVEADM = "/usr/bin/doveadm"
HOST = "127.0.0.1"


def free_port() -> int:
    """A loopback port that was free a moment ago (the OS picks it: bind to port 0)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def make_self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 / localhost and its key, as PEM files in ``directory``."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    san = x509.SubjectAlternativeName(
        [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(san, critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


class DovecotServer:
    """One private Dovecot instance; ``start``/``stop`` may be repeated (same ports, same mail)."""

    def __init__(
        self,
        root: Path,
        *,
        user: str = "marac",
        password: str = "marac-test-password",
        oauth_introspection_url: str | None = None,
        spare_users: int = 100,
    ) -> None:
        self.root = root
        self.host = HOST
        self.port = free_port()
        self.tls_port = free_port()
        self.user = user
        self.password = password
        self.oauth_introspection_url = oauth_introspection_url
        self.config = root / "dovecot.conf"
        self.log = root / "dovecot.log"
        self.cert, self.key = make_self_signed_cert(self._mkdir("tls"))
        self._process: subprocess.Popen[bytes] | None = None
        self._write_config()
        self._add_user(user, password)
        self._spare_accounts = [
            self._add_user(f"{user}-{n:03d}", secrets.token_hex(8)) for n in range(spare_users)
        ]
        self._minimal_accounts = [
            self._add_user(f"{user}-min-{n:02d}", secrets.token_hex(8),
                           "userdb_imap_capability=IMAP4rev1")
            for n in range(5)
        ]

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self, *, attempts: int = 200) -> None:
        """Start Dovecot and return once both ports greet; raise with its log if it dies."""
        with (self.root / "dovecot.out").open("ab") as out:
            self._process = subprocess.Popen(
                [DOVECOT, "-F", "-c", str(self.config)], stdout=out, stderr=subprocess.STDOUT
            )
        for port in (self.port, self.tls_port):
            self._wait_until_listening(port, attempts)

    def stop(self) -> None:
        """Disconnect every client, then stop the master and wait for it.

        Dovecot gives IMAP sessions (an IDLE client, say) 10 s to go on their own at shutdown;
        kicking them first makes a stop take about a second.
        """
        if self._process is None:
            return
        self.doveadm("kick", "*", check=False)
        self._process.send_signal(signal.SIGTERM)
        self._process.wait(timeout=30)
        self._process = None

    def __enter__(self) -> DovecotServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- accounts and mail -------------------------------------------------------------------

    def new_account(self) -> DovecotAccount:
        """A user whose mailbox no one has touched yet (one of the spares made up front)."""
        return self._take(self._spare_accounts)

    def new_minimal_account(self) -> DovecotAccount:
        """Like ``new_account``, but after login the server announces plain IMAP4rev1 only:
        no IDLE, MOVE, UIDPLUS or NAMESPACE, as some older servers do."""
        return self._take(self._minimal_accounts)

    @staticmethod
    def _take(spares: list[DovecotAccount]) -> DovecotAccount:
        if not spares:
            raise RuntimeError("no spare Dovecot users left; create the server with more")
        return spares.pop(0)

    def _add_user(self, user: str, password: str, extra: str = "") -> DovecotAccount:
        # Written before start only: Dovecot re-reads a changed passwd-file at most once a
        # second (and only if its mtime moved), too coarse for tests adding users quickly.
        home = self.root / "mail" / user
        with (self.root / "users").open("a") as lines:
            lines.write(f"{user}:{{PLAIN}}{password}::::{home}::{extra}\n")
        return DovecotAccount(self, user, password)

    @contextlib.contextmanager
    def connect(
        self, user: str | None = None, password: str | None = None
    ) -> Iterator[imaplib.IMAP4]:
        """A logged-in imaplib client, logged out afterwards."""
        client = imaplib.IMAP4(self.host, self.port, timeout=10)
        try:
            client.login(user or self.user, password or self.password)
            yield client
        finally:
            with contextlib.suppress(imaplib.IMAP4.error, OSError):
                client.logout()

    def append(self, raw: bytes, folder: str = "INBOX", *, user: str | None = None,
               password: str | None = None) -> str:
        """APPEND ``raw`` to ``folder``; returns the new message's UID."""
        with self.connect(user, password) as client:
            typ, data = client.append(folder, None, None, raw)
        assert typ == "OK", data
        match = re.search(rb"APPENDUID \d+ (\d+)", data[-1] or b"")
        assert match, data
        return match.group(1).decode()

    def messages(self, folder: str = "INBOX", *, user: str | None = None,
                 password: str | None = None) -> list[bytes]:
        """Raw bytes of every message in ``folder`` (empty if the folder does not exist)."""
        return [raw for raw, _flags in self.messages_with_flags(folder, user=user,
                                                                  password=password)]

    def messages_with_flags(self, folder: str = "INBOX", *, user: str | None = None,
                            password: str | None = None) -> list[tuple[bytes, bytes]]:
        with self.connect(user, password) as client:
            typ, _data = client.select(_quote(folder), readonly=True)
            if typ != "OK":
                return []
            typ, data = client.uid("FETCH", "1:*", "(FLAGS BODY.PEEK[])")
        return [(item[1], item[0]) for item in data if isinstance(item, tuple)]

    def folders(self, *, user: str | None = None, password: str | None = None) -> list[str]:
        with self.connect(user, password) as client:
            _typ, data = client.list()
        lines = [line for line in data if isinstance(line, bytes)]
        return [line.rsplit(b" ", 1)[-1].strip(b'"').decode() for line in lines]

    def uidvalidity(self, folder: str = "INBOX", *, user: str | None = None) -> int:
        out = self.doveadm("mailbox", "status", "-u", user or self.user, "uidvalidity", folder)
        return int(out.split("uidvalidity=")[1].split()[0])

    def set_uidvalidity(self, value: int, folder: str = "INBOX", *,
                        user: str | None = None) -> None:
        """Give the folder a new UIDVALIDITY, as a server rebuilding its index would."""
        self.doveadm("mailbox", "update", "-u", user or self.user,
                     "--uid-validity", str(value), folder)

    def doveadm(self, *args: str, check: bool = True) -> str:
        result = subprocess.run(
            [DOVEADM, "-c", str(self.config), *args],
            capture_output=True, text=True, timeout=30, check=False,
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"doveadm {' '.join(args)} failed: {result.stderr}")
        return result.stdout

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    # -- internals ---------------------------------------------------------------------------

    def _wait_until_listening(self, port: int, attempts: int) -> None:
        """Poll the port (short timeouts, bounded attempts), waiting on the process between."""
        for _attempt in range(attempts):
            with contextlib.suppress(OSError), socket.create_connection(
                (self.host, port), timeout=0.2
            ) as sock:
                sock.settimeout(0.5)  # the master accepts even while imap-login cannot start
                if port == self.tls_port or sock.recv(64).startswith(b"* OK"):
                    return
            assert self._process is not None
            with contextlib.suppress(subprocess.TimeoutExpired):
                code = self._process.wait(timeout=0.05)
                raise RuntimeError(f"dovecot exited with {code}:\n{self.log_text()}")
        raise RuntimeError(f"dovecot did not listen on {port}:\n{self.log_text()}")

    def _mkdir(self, name: str) -> Path:
        path = self.root / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def _write_config(self) -> None:
        self.root.chmod(0o755)  # Dovecot's unprivileged processes must reach the files below
        mail = self._mkdir("mail")
        mail_user, mail_group = _mail_owner()
        if os.geteuid() == 0:
            os.chown(mail, pwd.getpwnam(mail_user).pw_uid, grp.getgrnam(mail_group).gr_gid)
        self.config.write_text(_CONFIG.format(
            root=self.root, host=self.host, port=self.port, tls_port=self.tls_port,
            cert=self.cert, key=self.key, mail_user=mail_user, mail_group=mail_group,
            service_users=_service_users(),
            chroot="" if os.geteuid() == 0 else "  chroot =\n",  # chroot needs root
            oauth=self._oauth_config(),
            mechanisms="plain login" + (" xoauth2 oauthbearer" if self.oauth_introspection_url
                                        else ""),
        ))

    def _oauth_config(self) -> str:
        if not self.oauth_introspection_url:
            return ""
        settings = self.root / "oauth2.conf.ext"
        settings.write_text(
            "introspection_mode = post\n"
            f"introspection_url = {self.oauth_introspection_url}\n"
            "force_introspection = yes\n"
            "username_attribute = username\n"
            "active_attribute = active\n"
            "active_value = true\n"
        )
        return (
            "passdb {\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n"
            f"  args = {settings}\n}}\n"
        )


@dataclass(frozen=True)
class DovecotAccount:
    """One user's mailbox on a ``DovecotServer``."""

    server: DovecotServer
    user: str
    password: str

    def append(self, raw: bytes, folder: str = "INBOX") -> str:
        return self.server.append(raw, folder, user=self.user, password=self.password)

    def messages(self, folder: str = "INBOX") -> list[bytes]:
        return self.server.messages(folder, user=self.user, password=self.password)

    def flags(self, folder: str = "INBOX") -> list[bytes]:
        pairs = self.server.messages_with_flags(folder, user=self.user, password=self.password)
        return [flags for _raw, flags in pairs]

    def folders(self) -> list[str]:
        return self.server.folders(user=self.user, password=self.password)

    def uidvalidity(self, folder: str = "INBOX") -> int:
        return self.server.uidvalidity(folder, user=self.user)

    def set_uidvalidity(self, value: int, folder: str = "INBOX") -> None:
        self.server.set_uidvalidity(value, folder, user=self.user)


def _mail_owner() -> tuple[str, str]:
    if os.geteuid() == 0:
        return "nobody", grp.getgrgid(pwd.getpwnam("nobody").pw_gid).gr_name
    return pwd.getpwuid(os.geteuid()).pw_name, grp.getgrgid(os.getegid()).gr_name


def _service_users() -> str:
    """As root the packaged dovecot/dovenull users run the helpers; otherwise we do."""
    if os.geteuid() == 0:
        return ""
    me = pwd.getpwuid(os.geteuid()).pw_name
    group = grp.getgrgid(os.getegid()).gr_name
    return (
        f"default_internal_user = {me}\ndefault_login_user = {me}\n"
        f"default_internal_group = {group}\n"
    )


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


_CONFIG = """\
protocols = imap
listen = {host}
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
{service_users}first_valid_uid = 1
first_valid_gid = 1
mail_uid = {mail_user}
mail_gid = {mail_group}
mail_location = maildir:~/Maildir
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = no
auth_mechanisms = {mechanisms}
# Tests log in wrongly on purpose: no 2 s failure delay, no growing per-IP penalty.
auth_failure_delay = 0
service anvil {{
{chroot}  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
{oauth}userdb {{
  driver = passwd-file
  args = username_format=%u {root}/users
}}
service imap-login {{
{chroot}  inet_listener imap {{
    address = {host}
    port = {port}
  }}
  inet_listener imaps {{
    address = {host}
    port = {tls_port}
    ssl = yes
  }}
}}
"""
