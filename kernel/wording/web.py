"""What the web dashboard says to the people who sign in to it (issue 15): page titles and
headings, the sign-in pages and email, refusals, and the chat answer to "dashboard"."""

from __future__ import annotations

from datetime import datetime

from kernel.wording.common import quoted

SITE = "Marac data dashboard"
SKIP_TO_CONTENT = "Skip to the content"

# Navigation and page titles.
NAV_GRID = "Upload grid"
NAV_NATIONAL = "National picture"
NAV_OPERATOR = "Operator"
NAV_SIGN_OUT = "Sign out"
TITLE_GRID = "Upload grid"
TITLE_NATIONAL = "National picture"
TITLE_OPERATOR = "Operator view"
TITLE_SIGN_IN = "Sign in"

# Sign in.
SIGN_IN_INTRO = ("Enter the email address the data team holds for you. We will email you a "
                 "link that signs you in; it works once, within 15 minutes.")
SIGN_IN_LABEL = "Your email address"
SIGN_IN_BUTTON = "Email me a sign-in link"
CHECK_EMAIL_TITLE = "Check your email"
CHECK_EMAIL = ("If that address is registered with the Marac data team, a sign-in link is on "
               "its way to it. The link works once, within 15 minutes. Nothing arrived? Check "
               "the address and your junk folder, or ask the data team.")
LINK_CONFIRM_TITLE = "Sign in to the Marac data dashboard"
LINK_CONFIRM_BUTTON = "Sign in"
LINK_BAD_TITLE = "This sign-in link does not work"
LINK_BAD = ("The link has been used already, has expired (links last 15 minutes), or was not "
            "one we sent. Ask for a new one.")
LINK_BAD_ACTION = "Ask for a new sign-in link"
FORM_EXPIRED = "The sign-in form had expired. Please enter your address again."
TOO_MANY = ("Too many sign-in requests from here. Please wait a quarter of an hour and try "
            "again.")
SIGNED_OUT = "You are signed out."
EMAIL_SUBJECT = "Your sign-in link for the Marac data dashboard"


def email_text(name: str, link: str) -> str:
    return (f"Hello {name},\n\nHere is your link to the Marac data dashboard:\n\n{link}\n\n"
            "It works once, within 15 minutes, and signs you in on the device you open it "
            "on for a working day. If you did not ask for it, ignore this email: nobody can "
            "use it without access to your mailbox.\n")


def link_confirm(name: str) -> str:
    return f"Sign in as {name}."


def dashboard_reply(link: str) -> str:
    """The chat answer to "dashboard"."""
    return (f"Here is your sign-in link to the Marac data dashboard: {link}\n"
            "It works once, within 15 minutes. Keep it to yourself: it signs in as you.")


DASHBOARD_NOT_PRIVATE = ("I send dashboard sign-in links in a direct message only: send me "
                         "\"dashboard\" there, or sign in at {url}/login with your email "
                         "address.")

# Refusals and errors.
FORBIDDEN_TITLE = "Not yours to see"
NOT_FOUND_TITLE = "Not found"
NOT_FOUND = "There is no such page."
OPERATOR_ONLY = "The operator view is for the data team (admins) only."


def page_failed(reference: str) -> str:
    return (f"Sorry, this page failed to load. The data team can find out why with the "
            f"reference {reference}. Please try again later.")


def outside_scope(marac: str) -> str:
    return (f"{marac} is outside what your registry entry lets you see. Ask the data team if "
            "that is wrong.")


def unknown_marac(name: str) -> str:
    return f"No Marac called {quoted(name[:60])} is registered."


def unknown_year(text: str) -> str:
    return f"{quoted(text[:60])} is not a financial year such as 2024/25: showing the latest year."


def unknown_area(text: str) -> str:
    return f"{quoted(text[:60])} is not a registered area: showing all your Maracs."


def unknown_quarter(text: str) -> str:
    return f"{quoted(text[:60])} is not a quarter such as Q3 2024/25: showing the latest one."


# The pages' headings and labels.
FILTER_YEAR = "Year"
FILTER_REGION = "Region"
FILTER_FORCE = "Police force area"
FILTER_ANY = "All"
FILTER_BUTTON = "Show"
DOWNLOAD = "Download"
GRID_MISSING_HEADING = "Not sent yet"
GRID_MISSING_NONE = "Every Marac here has sent it."
COORDINATORS = "Coordinators"
DUE = "Due"
MARAC_QUARTERS = "Quarters"
MARAC_FIGURES = "Figures for the year against the bands and the national reference"
MARAC_TREND = "Cases over the last eight quarters"
MARAC_TREND_NONE = "nothing sent"
MARAC_ANSWER = "This quarter"
MARAC_HISTORY = "Each meeting's history"
MARAC_HISTORY_NONE = "No meetings recorded for this quarter."
HISTORY_HEADINGS = ("Version", "Cases", "File", "Row", "Sent by", "Recorded", "Confirmed by",
                    "Current")
_HELD_STATES = {"pending": "waiting for confirmation", "confirmed": "confirmed",
                "kept": "not applied: the old figures were kept", "expired": "expired",
                "superseded": "replaced by a later change", "withdrawn": "withdrawn"}


def held_line(sender: str, filename: str, row: int | None, at: str, status: str,
              resolved: str) -> str:
    """A change that was held for confirmation, and what became of it."""
    where = f"{filename}, row {row}" if row else filename
    state = _HELD_STATES.get(status, status)
    return (f"Changed figures from {sender} ({where}) held on {at}: {state}"
            + (f" on {resolved}." if resolved and status != "pending" else "."))


def explanation_line(where: str, text: str, by: str, at: str) -> str:
    """A reason given for a soft issue instead of changing the figure."""
    return f"Explained{f' ({where})' if where else ''} by {by} on {at}: “{text}”"
FIGURE_HEADINGS = ("Figure", "This Marac", "Usual range or expected", "National")
NATIONAL_BY_REGION = "The year by region"
NATIONAL_BY_FORCE = "The year by police force area"
AREA_HEADINGS = ("Area", "Maracs", "Counted", "Filled from the quarter before",
                 "Left out (two quarters missed)", "Cases", "Repeat cases",
                 "Partner referrals", "Cases per 10,000 adult women")
NOT_STARTED = "The year has not started."
OP_DEPTHS = "Queues (waiting, in hand or failed)"
OP_DEPTH_HEADINGS = ("Queue", "Channel", "Status", "Items")
OP_DEPTHS_NONE = "Nothing waiting: every message is answered and every reply sent."
OP_FAILED_IN = "Failed and quarantined messages"
OP_FAILED_IN_HEADINGS = ("Item", "Channel", "Finished", "Outcome", "Error", "Attempts")
OP_FAILED_OUT = "Replies refused for good"
OP_RETRYING = "Replies being retried"
OP_OUT_HEADINGS = ("Item", "Channel", "To", "Attempts", "Next attempt", "Last error")
OP_NONE = "None."
OP_FOR_TEAM = "Messages for the data team (newest first)"
OP_FOR_TEAM_HEADINGS = ("Received", "From", "Channel", "Message")
OP_FOR_TEAM_NONE = "None: every message so far was one the bot could deal with."
OP_CHANNELS = "Channels"
OP_PROBLEMS = "Down"
OP_COMPONENT_HEADINGS = ("Part", "State", "Since", "Last error")
OP_NEXT_REMINDER = "Next reminder run"
OP_NO_REMINDER = "not scheduled"
SIGNED_IN_AS = "Signed in as"
TREND_LABEL = "Cases per quarter, {first} to {last}"


def missed_previous(quarter: str) -> str:
    return f"missed {quarter} too"


def when(moment: datetime | None) -> str:
    """A stored time as people read it (already in the configured time zone)."""
    return "" if moment is None else f"{moment:%d %b %Y %H:%M}"
POLICE_SHARE = "Referred by the police"
IDVA_FTE = "Idva capacity needed (FTE)"
ADMIN_FTE = "Marac administrator needed (FTE)"
YES, NO = "yes", "no"
