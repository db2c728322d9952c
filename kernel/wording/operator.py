"""What `marac-bot run` tells its operator."""

from __future__ import annotations

from collections.abc import Sequence

# ---------------------------------------------------------------------------------------------
# Operator messages of `marac-bot run`.
# ---------------------------------------------------------------------------------------------

DEMO_REGISTRY_LOADED = (
    "The registry was empty, so the DEMO registry was loaded (London Maracs with made-up "
    "contacts at example.org). Import your own with `marac-bot registry import FILE.csv`."
)
SENDERS_ON_TRUST = (
    "MARAC_TRUSTED_AUTHSERV_ID is not set: sender addresses are taken on trust (anyone who "
    "can forge a From header can submit as a registered coordinator)."
)


def started_text(parts: Sequence[str]) -> str:
    return "Marac data assistant running: " + "; ".join(parts) + ". Ctrl-C stops it."


def database_unusable(shown_url: str, reason: str) -> str:
    """The database cannot be opened at all: it does not answer, or refuses us."""
    return f"MARAC_DATABASE_URL: cannot open the database {shown_url}: {reason}"


def database_url_unsupported(shown_url: str | None, reason: str) -> str:
    """MARAC_DATABASE_URL is not a SQLite or PostgreSQL URL this bot can open (another
    database, a missing driver, not a URL at all: then it is not repeated, in case it holds a
    password where a URL's would be hidden)."""
    what = " is not a URL" if shown_url is None else f": {shown_url} cannot be used"
    return (f"MARAC_DATABASE_URL{what} ({reason}): only SQLite (sqlite:///PATH) and "
            "PostgreSQL (postgresql://USER@HOST/DATABASE) URLs are supported")


def database_folder_unusable(folder: str, database: str, reason: str) -> str:
    """A SQLite database's folder (the data folder, by default) cannot be made."""
    return (f"MARAC_DATA_DIR or MARAC_DATABASE_URL: cannot make the folder {folder} for "
            f"{database}: {reason}")


def database_schema_newer(shown_url: str, revisions: Sequence[str], newest: str) -> str:
    """A newer release has upgraded the database past what this one knows."""
    return (f"MARAC_DATABASE_URL: the database {shown_url} is at schema "
            f"{', '.join(revisions)}, which this release does not know (its newest is "
            f"{newest}): a newer release has upgraded it. Run that release, or a later one; "
            "this one would misread the data.")


# `marac-bot submit`: a held change's {how} (the issue table's changed-from-previous).
CLI_HOW_TO_CONFIRM = " by running the same marac-bot submit again with --confirm"


def unknown_sender_cli(sender: str) -> str:
    return (f"{sender} is not a registered contact: nothing was recorded (the refused files "
            "are kept for the audit trail). Import the contact with `marac-bot registry "
            "import`.")




def cannot_write(target: str, reason: str) -> str:
    """A command's output could not be written; what the command did besides stands."""
    return f"cannot write {target}: {reason}"
