"""The policy values every layer may be given: plain frozen values, composed into the bot's
``Settings`` at the top (bot/settings.py reads them from the environment).

Lower layers take what they need of these (bands, due days, a time zone) as arguments; none of
them reads the environment or knows the transports' settings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from zoneinfo import ZoneInfo

from kernel.quarters import Quarter, is_tracked

# Clocks change between 01:00 and 03:00 in the UK: a time in there may happen twice or never.
CLOCK_CHANGE_FROM, CLOCK_CHANGE_UNTIL = time(1, 0), time(3, 0)
# A reminder run (a catch-up after downtime included) sends only before this local time.
REMINDER_LAST_SEND_TIME = time(17, 0)
DEFAULT_REMINDER_TIME = time(9, 30)


class ConfigError(Exception):
    """A configuration value is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Bands:
    """Reference bands and national figures of spec §5; configurable, never constants."""

    expected_cases_per_10k: float = 40.0
    repeat_rate_low: float = 0.28
    repeat_rate_high: float = 0.40
    police_share_high: float = 0.75
    idva_cases_per_fte: float = 100.0
    admin_cases_per_fte: float = 400.0
    # A quarter's volume is "unusual" outside this fraction of the expected quarterly volume.
    volume_low_fraction: float = 0.5
    volume_high_fraction: float = 2.0
    # Rates over fewer cases than this are noise, not a signal worth a warning.
    min_cases_for_rates: int = 20
    national_cases_per_10k: float = 47.0
    national_repeat_rate: float = 0.31
    national_partner_share: float = 0.361
    # The rest of spec §5's national reference (shares of cases), quoted beside a Marac's own.
    national_minoritised_share: float = 0.141
    national_lgbtq_share: float = 0.016
    national_disabled_share: float = 0.101
    national_male_share: float = 0.064
    national_aged_16_17_share: float = 0.013



@dataclass(frozen=True)
class Policy:
    """How the bot collects: the mailbox it answers as, the due days, limits and bands."""

    mailbox_address: str = "marac@localhost"
    timezone: str = "Europe/London"
    due_days: int = 28
    max_file_mb: float = 10.0
    # Attachments handled per message; the rest are named in the reply, not processed (one
    # mail with 200 attachments held the database for 57 s and got a 7.7 MB reply).
    max_attachments: int = 20
    held_expiry_days: int = 14
    # The first quarter whose uploads are chased; None chases every quarter (spec §5 history
    # collected before the bot existed is not in its store, so must not count as missing).
    track_from: Quarter | None = None
    reminder_time: time = DEFAULT_REMINDER_TIME
    bands: Bands = field(default_factory=Bands)

    @property
    def sendable_channels(self) -> frozenset[str] | None:
        """The channels this installation can send on; None: every one (bot.settings knows
        which are configured and says so)."""
        return None

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 1024 * 1024)

    @property
    def data_team_contact(self) -> str:
        """How people reach the data team, named where they are told to ask it; bot.settings
        reads MARAC_DATA_TEAM_CONTACT, else it is the mailbox."""
        return self.mailbox_address

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def tracks(self, quarter: Quarter) -> bool:
        """Whether uploads of ``quarter`` are chased (kernel.quarters.is_tracked)."""
        return is_tracked(quarter, self.track_from)
