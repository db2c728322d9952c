"""One typed settings object, built from the environment at the entry point (STYLE.md 11).

Nothing else reads ``os.environ``: the settings object is passed in. A bad value raises
``ConfigError`` naming the variable, and ``marac-bot`` exits 2 with that message.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kernel.config import (
    CLOCK_CHANGE_FROM,
    CLOCK_CHANGE_UNTIL,
    DEFAULT_REMINDER_TIME,
    REMINDER_LAST_SEND_TIME,
    Bands,
    ConfigError,
    Policy,
)
from kernel.quarters import Quarter

# Bands and ConfigError live in the kernel (lower layers use them); named here as well so
# that everything about configuration can be imported from one place at the top.
__all__ = ["Bands", "ConfigError", "HostPort", "Settings"]


@dataclass(frozen=True)
class HostPort:
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class Settings(Policy):
    """The policy values every layer may be given (``kernel.config.Policy``), and the
    transports' settings only the bot itself uses."""

    database_url: str = "sqlite:///marac-data/marac.db"
    data_dir: Path = Path("marac-data")
    smtp_listen: HostPort | None = HostPort("127.0.0.1", 8025)
    smtp_relay: HostPort | None = None
    smtp_relay_user: str | None = None
    smtp_relay_password: str | None = None
    smtp_relay_tls: str = "none"
    imap_host: str | None = None
    imap_port: int = 993
    imap_user: str | None = None
    imap_password: str | None = None
    imap_tls: str = "ssl"
    imap_folder: str = "INBOX"
    imap_oauth_tenant: str | None = None
    imap_oauth_client_id: str | None = None
    imap_oauth_client_secret: str | None = None
    http_listen: HostPort | None = HostPort("127.0.0.1", 3000)
    # The proxies whose X-Forwarded-For the dashboard believes (MARAC_TRUSTED_PROXIES: addresses
    # or CIDR blocks); none by default, so a client cannot choose the address it is limited by.
    trusted_proxies: tuple[str, ...] = ()
    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_api_url: str = "https://slack.com/api/"
    teams_app_id: str | None = None
    teams_app_password: str | None = None
    teams_tenant: str | None = None
    teams_anonymous: bool = False
    trusted_authserv_id: str | None = None
    smtp_tls_cert: Path | None = None
    smtp_tls_key: Path | None = None
    smtp_auth_user: str | None = None
    smtp_auth_password: str | None = None
    # The dashboard (issue 15): signs sessions and sign-in links; unset, one is generated and
    # kept in the data folder. ``web_url`` is the address people open (behind a TLS proxy, its
    # https URL); unset, http://MARAC_HTTP_LISTEN.
    secret_key: str | None = None
    web_url: str | None = None
    # Messages handled at once by ``run`` (MARAC_WORKERS; default the machine's cores).
    workers: int = 1
    # How people reach the data team, named in refusals (MARAC_DATA_TEAM_CONTACT): an email
    # address, a phone number or a web page; unset, the mailbox address.
    data_team_contact_text: str | None = None

    @property
    def data_team_contact(self) -> str:
        return self.data_team_contact_text or self.mailbox_address

    @property
    def sendable_channels(self) -> frozenset[str] | None:
        """Email always (the relay, or the outbox folder); Slack and Teams when configured, as
        bot.channels.registry.senders builds them. A reminder for a contact who prefers a
        channel not in here goes by email instead of waiting for ever."""
        found = {"email"}
        if self.slack_bot_token:
            found.add("slack")
        if self.teams_app_id or self.teams_anonymous:
            found.add("teams")
        return frozenset(found)

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read settings from ``environ`` (default: the process environment)."""
        env = _Env(os.environ if environ is None else environ)
        data_dir = Path(env.text("MARAC_DATA_DIR") or "marac-data")
        default_db = f"sqlite:///{data_dir / 'marac.db'}"
        settings = cls(
            database_url=env.text("MARAC_DATABASE_URL") or default_db,
            data_dir=data_dir,
            mailbox_address=env.text("MARAC_MAILBOX_ADDRESS") or "marac@localhost",
            smtp_listen=env.host_port("MARAC_SMTP_LISTEN", "127.0.0.1:8025"),
            smtp_relay=env.host_port("MARAC_SMTP_RELAY", None),
            smtp_relay_user=env.text("MARAC_SMTP_RELAY_USER"),
            smtp_relay_password=env.text("MARAC_SMTP_RELAY_PASSWORD"),
            smtp_relay_tls=env.choice("MARAC_SMTP_RELAY_TLS", ("none", "starttls", "ssl"), "none"),
            imap_host=env.text("MARAC_IMAP_HOST"),
            # 993 is IMAP over TLS; with none or starttls the standard port is 143.
            imap_port=env.integer(
                "MARAC_IMAP_PORT",
                993 if env.choice("MARAC_IMAP_TLS", ("none", "starttls", "ssl"), "ssl") == "ssl"
                else 143,
                low=1,
                high=65535,
            ),
            imap_user=env.text("MARAC_IMAP_USER"),
            imap_password=env.text("MARAC_IMAP_PASSWORD"),
            imap_tls=env.choice("MARAC_IMAP_TLS", ("none", "starttls", "ssl"), "ssl"),
            imap_folder=env.text("MARAC_IMAP_FOLDER") or "INBOX",
            imap_oauth_tenant=env.text("MARAC_IMAP_OAUTH_TENANT"),
            imap_oauth_client_id=env.text("MARAC_IMAP_OAUTH_CLIENT_ID"),
            imap_oauth_client_secret=env.text("MARAC_IMAP_OAUTH_CLIENT_SECRET"),
            http_listen=env.host_port("MARAC_HTTP_LISTEN", "127.0.0.1:3000"),
            trusted_proxies=env.networks("MARAC_TRUSTED_PROXIES"),
            slack_bot_token=env.text("SLACK_BOT_TOKEN"),
            slack_signing_secret=env.text("SLACK_SIGNING_SECRET"),
            slack_app_token=env.text("SLACK_APP_TOKEN"),
            slack_api_url=env.text("SLACK_API_URL") or "https://slack.com/api/",
            teams_app_id=env.text("MARAC_TEAMS_APP_ID"),
            teams_app_password=env.text("MARAC_TEAMS_APP_PASSWORD"),
            teams_tenant=env.text("MARAC_TEAMS_TENANT"),
            teams_anonymous=env.flag("MARAC_TEAMS_ANONYMOUS"),
            trusted_authserv_id=env.text("MARAC_TRUSTED_AUTHSERV_ID"),
            timezone=env.timezone("MARAC_TIMEZONE", "Europe/London"),
            due_days=env.integer("MARAC_DUE_DAYS", 28, low=0, high=366),
            max_file_mb=env.number("MARAC_MAX_FILE_MB", 10.0, low=0.01, high=1024),
            max_attachments=env.integer("MARAC_MAX_ATTACHMENTS", 20, low=1, high=1000),
            held_expiry_days=env.integer("MARAC_HELD_EXPIRY_DAYS", 14, low=1, high=366),
            track_from=env.quarter("MARAC_TRACK_FROM"),
            reminder_time=env.reminder_time("MARAC_REMINDER_TIME", DEFAULT_REMINDER_TIME),
            smtp_tls_cert=env.path("MARAC_SMTP_TLS_CERT"),
            smtp_tls_key=env.path("MARAC_SMTP_TLS_KEY"),
            smtp_auth_user=env.text("MARAC_SMTP_AUTH_USER"),
            smtp_auth_password=env.text("MARAC_SMTP_AUTH_PASSWORD"),
            secret_key=env.text("MARAC_SECRET_KEY"),
            web_url=env.web_url("MARAC_WEB_URL"),
            workers=env.integer("MARAC_WORKERS", os.cpu_count() or 1, low=1, high=32),
            data_team_contact_text=env.text("MARAC_DATA_TEAM_CONTACT"),
            bands=env.bands("MARAC_BANDS"),
        )
        settings.check()
        return settings

    def check(self) -> None:
        """Cross-field rules; each failure names the variables involved."""
        if bool(self.smtp_tls_cert) != bool(self.smtp_tls_key):
            raise ConfigError("MARAC_SMTP_TLS_CERT and MARAC_SMTP_TLS_KEY must be set together")
        if bool(self.smtp_auth_user) != bool(self.smtp_auth_password):
            raise ConfigError(
                "MARAC_SMTP_AUTH_USER and MARAC_SMTP_AUTH_PASSWORD must be set together"
            )
        if self.imap_host and not self.imap_user:
            raise ConfigError("MARAC_IMAP_USER must be set when MARAC_IMAP_HOST is")
        oauth = (self.imap_oauth_tenant, self.imap_oauth_client_id, self.imap_oauth_client_secret)
        if any(oauth) and not all(oauth):
            raise ConfigError(
                "MARAC_IMAP_OAUTH_TENANT, MARAC_IMAP_OAUTH_CLIENT_ID and "
                "MARAC_IMAP_OAUTH_CLIENT_SECRET must be set together"
            )
        if self.imap_host and not (self.imap_password or all(oauth)):
            raise ConfigError(
                "MARAC_IMAP_PASSWORD (or the MARAC_IMAP_OAUTH_* variables) must be set "
                "when MARAC_IMAP_HOST is"
            )
        self._check_chat()
        if "@" not in self.mailbox_address:
            raise ConfigError(
                f"MARAC_MAILBOX_ADDRESS is not an email address: {self.mailbox_address!r}"
            )

    def _check_chat(self) -> None:
        """Slack needs its bot token plus a way in (signing secret or app token); Teams with
        an app id needs its password."""
        if (self.slack_app_token or self.slack_signing_secret) and not self.slack_bot_token:
            raise ConfigError("SLACK_BOT_TOKEN must be set when SLACK_APP_TOKEN or "
                              "SLACK_SIGNING_SECRET is")
        if self.slack_bot_token and not (self.slack_app_token or self.slack_signing_secret):
            raise ConfigError("SLACK_SIGNING_SECRET (HTTP events) or SLACK_APP_TOKEN (Socket "
                              "Mode) must be set when SLACK_BOT_TOKEN is")
        if self.teams_app_id and not self.teams_app_password:
            raise ConfigError("MARAC_TEAMS_APP_PASSWORD must be set when MARAC_TEAMS_APP_ID is")
        if self.teams_app_id and not self.teams_tenant:
            # Without it the SDK cannot get a token to reply with: every message would be
            # taken and none answered.
            raise ConfigError(
                "MARAC_TEAMS_TENANT must be set when MARAC_TEAMS_APP_ID is: the id of the "
                "Microsoft Entra tenant the bot is registered in ('botframework.com' for an "
                "older multi-tenant registration)")


# MARAC_BANDS: every field of the bands may be set. Shares of cases lie between 0 and 1; the
# volume band is a fraction of the expected volume (2.0: twice it); the rest divide figures,
# so are above 0; a count of cases is a whole number.
_BAND_FIELDS = tuple(f.name for f in dataclasses.fields(Bands))
_SHARES = frozenset(n for n in _BAND_FIELDS if n.endswith(("_share", "_rate", "_low", "_high"))
                    and not n.startswith("volume_"))
_FRACTIONS = _SHARES | {"volume_low_fraction", "volume_high_fraction"}


def _band_value(variable: str, key: str, text: str, default: float) -> float:
    """One band's value; a share or fraction may be written as a percentage ("28%")."""
    whole = isinstance(default, int)
    number = text.removesuffix("%").strip()
    try:
        value: float = int(number) if whole else float(number)
    except ValueError:
        kind = "a whole number" if whole else "a number"
        raise ConfigError(f"{variable}: {key} must be {kind}, not {text!r}") from None
    if text.endswith("%"):
        if key not in _FRACTIONS:
            raise ConfigError(f"{variable}: {key} is not a share, so not a percentage")
        value /= 100
    low_ok = value >= 0 if whole or key in _FRACTIONS else value > 0
    if not (math.isfinite(value) and low_ok and (key not in _SHARES or value <= 1)):
        shown = ("between 0 and 1 (0%-100%)" if key in _SHARES else
                 "0 or more" if whole or key in _FRACTIONS else "above 0")
        raise ConfigError(f"{variable}: {key} must be {shown}, not {text!r}")
    return value


@dataclass(frozen=True)
class _Env:
    environ: Mapping[str, str]

    def text(self, name: str) -> str | None:
        value = self.environ.get(name, "").strip()
        return value or None

    def flag(self, name: str) -> bool:
        value = (self.text(name) or "0").lower()
        if value not in {"0", "1", "true", "false", "yes", "no"}:
            raise ConfigError(f"{name} must be 1 or 0, not {value!r}")
        return value in {"1", "true", "yes"}

    def integer(self, name: str, default: int, *, low: int, high: int) -> int:
        raw = self.text(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
        if not low <= value <= high:
            raise ConfigError(f"{name} must be between {low} and {high}, not {value}")
        return value

    def number(self, name: str, default: float, *, low: float, high: float) -> float:
        raw = self.text(name)
        if raw is None:
            return default
        try:
            value = float(raw)
        except ValueError:
            raise ConfigError(f"{name} must be a number, not {raw!r}") from None
        if not low <= value <= high:
            raise ConfigError(f"{name} must be between {low} and {high}, not {value}")
        return value

    def choice(self, name: str, choices: tuple[str, ...], default: str) -> str:
        value = (self.text(name) or default).lower()
        if value not in choices:
            raise ConfigError(f"{name} must be one of {'|'.join(choices)}, not {value!r}")
        return value

    def host_port(self, name: str, default: str | None) -> HostPort | None:
        raw = self.environ.get(name)
        raw = default if raw is None else raw.strip()
        if not raw:
            return None
        host, sep, port = raw.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
            raise ConfigError(f"{name} must be host:port, not {raw!r}")
        return HostPort(host.strip("[]"), int(port))

    def timezone(self, name: str, default: str) -> str:
        value = self.text(name) or default
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"{name} is not a known time zone: {value!r}") from None
        return value

    def quarter(self, name: str) -> Quarter | None:
        """A quarter named with its year: "Q3 2024/25", "q3 24/25", "Oct-Dec 2024"."""
        raw = self.text(name)
        if raw is None:
            return None
        try:
            return Quarter.from_label(raw)
        except ValueError:
            pass
        # A phrase read on two far-apart days must give the same quarter: "last quarter" or a
        # bare "Q3" would drift as time passes, which a setting must not.
        found = {Quarter.parse(raw, today=day) for day in (date(2001, 1, 1), date(2101, 1, 1))}
        if len(found) != 1 or None in found:
            raise ConfigError(
                f"{name} must name one quarter with its year, such as 'Q3 2024/25', not {raw!r}"
            )
        return found.pop()

    def bands(self, name: str) -> Bands:
        """Spec §5's reference bands, each as ``name=value`` ("repeat_rate_low=25%,
        police_share_high=0.8"); a share as a fraction or a percentage; the rest as set in
        ``kernel.config.Bands``."""
        raw = self.text(name)
        if raw is None:
            return Bands()
        defaults = Bands()
        values: dict[str, Any] = {}  # each checked by _band_value against its field
        for item in filter(None, (part.strip() for part in re.split(r"[,;]", raw))):
            key, sep, text = (x.strip() for x in item.partition("="))
            if not sep or key not in _BAND_FIELDS:
                raise ConfigError(f"{name}: {item!r} is not name=value with one of these "
                                  f"names: {', '.join(_BAND_FIELDS)}")
            values[key] = _band_value(name, key, text, getattr(defaults, key))
        found = dataclasses.replace(defaults, **values)
        if found.repeat_rate_low > found.repeat_rate_high:
            raise ConfigError(f"{name}: repeat_rate_low is above repeat_rate_high")
        if found.volume_low_fraction > found.volume_high_fraction:
            raise ConfigError(f"{name}: volume_low_fraction is above volume_high_fraction")
        return found

    def reminder_time(self, name: str, default: time) -> time:
        """A local time HH:MM, outside the clock changes and before the last send time."""
        raw = self.text(name)
        if raw is None:
            return default
        match = re.fullmatch(r"(\d{1,2}):(\d{2})", raw)
        if not match or int(match[1]) > 23 or int(match[2]) > 59:
            raise ConfigError(f"{name} must be a local time HH:MM, such as 09:30, not {raw!r}")
        value = time(int(match[1]), int(match[2]))
        if CLOCK_CHANGE_FROM <= value < CLOCK_CHANGE_UNTIL:
            raise ConfigError(f"{name} is {raw}, between 01:00 and 03:00, when clocks change: "
                              "choose another time")
        if value >= REMINDER_LAST_SEND_TIME:
            raise ConfigError(f"{name} must be before {REMINDER_LAST_SEND_TIME:%H:%M}, the last "
                              f"time a day's reminders are sent, not {raw}")
        return value

    def web_url(self, name: str) -> str | None:
        """An http(s) base URL without a trailing slash: links in emails are built on it."""
        value = self.text(name)
        if value is None:
            return None
        if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", value):
            raise ConfigError(f"{name} must be an http:// or https:// address, not {value!r}")
        return value.rstrip("/")

    def networks(self, name: str) -> tuple[str, ...]:
        """A comma list of IP addresses or CIDR blocks, each as its network ("10.0.0.0/8")."""
        found = []
        for part in (p.strip() for p in (self.text(name) or "").split(",")):
            if not part:
                continue
            try:
                found.append(str(ipaddress.ip_network(part, strict=False)))
            except ValueError:
                raise ConfigError(
                    f"{name} must list IP addresses or CIDR blocks (such as 10.0.0.0/8), "
                    f"not {part!r}") from None
        return tuple(found)

    def path(self, name: str) -> Path | None:
        value = self.text(name)
        return Path(value) if value else None
