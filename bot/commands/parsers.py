"""The command line's parsers, kept apart from the commands themselves so that ``--help`` and
parsing import nothing heavy: each handler is named "module:function" and imported only when
its command runs (start-up time is part of the user experience)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bot.commands.common import iso_date

# Each report's --out suffixes, in the order --help and the usage message list them.
REPORT_SUFFIXES = {
    "grid": (".png", ".xlsx", ".csv", ".txt"),
    "national": (".xlsx", ".csv", ".txt", ".png"),
    "overview": (".xlsx", ".csv", ".txt"),
    "meetings": (".csv", ".xlsx"),
}
REPORT_HELP = {
    "grid": ("Maracs × quarters of a financial year: accepted / held / missing / overdue",
             "The upload grid of a financial year: for each Marac and quarter, whether figures "
             "are accepted, held for confirmation, missing or overdue."),
    "national": ("the national (or regional) picture of a year, per quarter and for the year",
                 "The key figures of every Marac (or of a region's): Maracs that sent "
                 "figures, meetings, cases, children, cases per 10,000 adult women, repeat and "
                 "partner-agency shares, per quarter and for the year, beside the national "
                 "reference figures in the settings. The national rule applies: once a "
                 "quarter is due, a Marac that missed it counts with its previous quarter's "
                 "figures and one that missed two in a row is left out of it; the report "
                 "names them. A quarter not started is blank, never 0. A .png is a bar chart "
                 "of cases per quarter, saying under each bar how many Maracs sent."),
    "overview": ("one row per Marac: quarters uploaded, meetings, cases, rates, held changes",
                 "One row per Marac for a financial year: the quarters it uploaded, meetings, "
                 "cases, repeat and police-referral shares, cases per 10,000 adult women "
                 "(annualised), the held changes still open, and how the national figures "
                 "take it (a quarter filled from the one before, or left out). A Marac that "
                 "sent nothing has blank meetings and cases, never 0."),
    "meetings": ("one row per meeting: its current figures and where they came from",
                 "Every meeting of the year (or quarter) chosen, one row each: the 30 counts "
                 "as they stand (blank stays blank, never 0), with the file, sheet row, "
                 "sender, time received and who confirmed a change. Without --out the CSV is "
                 "printed."),
}
# Each command's line in ``marac-bot --help``, in the order it lists them; the command's own
# parser (add_<command>_parser below) says the rest.
COMMANDS = {
    "run": "run the bot: SMTP listener, IMAP watcher, HTTP endpoint, scheduler",
    "validate": "check data returns without storing anything",
    "submit": "record data returns, as if emailed by SENDER",
    "template": "write a blank data template",
    "registry": "load or dump the registry of Maracs and contacts",
    "db": "database maintenance",
    "remind": "run the reminder policy now",
    "ask": "answer a dashboard question",
    "report": "write a report (upload grid, national picture, overview)",
    "history": "every version of a Marac's figures and where each came from",
    "withdraw": "withdraw a submission: its meetings go back to the figures before it",
}
# The template's editions (validation.columns.Edition's values; that module loads openpyxl).
EDITIONS = ("uk", "scotland")

def add_run_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "run",
        help=COMMANDS["run"],
        description="Start every configured channel in one process. With nothing configured: "
        "SQLite under ./marac-data/, the SMTP listener on 127.0.0.1:8025, replies written to "
        "./marac-data/outbox/, the read-only web dashboard on MARAC_HTTP_LISTEN "
        "(http://127.0.0.1:3000/login: sign in with a registered address; the link is emailed) "
        "and a demo registry. At most MARAC_MAX_ATTACHMENTS files "
        "(default 20) of one message are handled; the rest are named in the reply. "
        "MARAC_WORKERS messages are handled at once, in worker processes beside this one (default: "
        "the cores). Several processes may "
        "share one PostgreSQL and one IMAP mailbox. GET /healthz answers 503 naming a part "
        "that is down. Ctrl-C or SIGTERM stops it cleanly after the messages in hand. Exit 0 "
        "on a clean stop, 2 on bad configuration or a database it cannot use.",
    )
    parser.set_defaults(handler="bot.commands.run_cmd:run")


def add_validate_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "validate",
        help=COMMANDS["validate"],
        description="Check Marac data returns and list every issue by cell. Nothing is stored. "
        "When the configured database exists, its registry checks the Marac names and its "
        "meetings show which rows would be unchanged or held; without one, names are not "
        "checked. "
        "Exit code 0: no hard issue; 1: a hard issue in any file; 2: usage error, file "
        "not found, or the output could not be written.",
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help=".xlsx .xlsm .xls .ods .csv")
    parser.add_argument("--marac", metavar="NAME",
                        help="the Marac these files are for (its name or an alias in the "
                        "registry): rows naming another Marac are reported as not-authorised")
    parser.add_argument("--quarter", metavar="Q",
                        help="the quarter the files are declared for, e.g. 'Q3 2024/25': "
                        "meeting dates outside it are hard issues")
    parser.add_argument("--json", action="store_true", help="print a JSON array, one per file")
    parser.add_argument("--annotate", metavar="OUT.xlsx", type=Path,
                        help="write a copy with problem cells highlighted and commented "
                        "(several files: OUT-<file>.xlsx each)")
    parser.set_defaults(handler="bot.commands.validate_cmd:run")


def add_submit_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "submit",
        help=COMMANDS["submit"],
        description="Validate and record Marac data returns exactly as an emailed file would "
        "be: accepted rows are stored, changed meetings are held for confirmation. Exit code "
        "0: no hard issue; 1: a hard issue in any file, or the sender is not registered; 2: "
        "usage error, file not found, or the report could not be written (what was "
        "recorded stays recorded).",
    )
    parser.add_argument("files", nargs="+", metavar="FILE")
    parser.add_argument("--sender", required=True, metavar="EMAIL",
                        help="the registered contact the files come from")
    parser.add_argument("--quarter", metavar="Q", help="the declared quarter, e.g. 'Q3 2024/25'")
    parser.add_argument("--confirm", action="store_true",
                        help="apply changed figures for meetings already stored (the old "
                        "figures stay in the history)")
    parser.add_argument("--json", action="store_true",
                        help="print a JSON array, one per file (from an unregistered sender: "
                        "each file rejected, the refusal as its issue)")
    parser.set_defaults(handler="bot.commands.submit_cmd:run")


def add_template_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "template",
        help=COMMANDS["template"],
        description="Write a blank Marac data template (.xlsx) with the canonical headers.",
    )
    parser.add_argument("--out", required=True, type=Path, metavar="FILE.xlsx",
                        help="where to write (an .xlsx name)")
    parser.add_argument("--edition", choices=EDITIONS, default="uk",
                        help="uk (default) or scotland")
    parser.add_argument("--marac", metavar="NAME", help="the Marac the template is for")
    parser.set_defaults(handler="bot.commands.template_cmd:run")


def add_registry_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "registry",
        help=COMMANDS["registry"],
        description="Import (upsert) Maracs or contacts from CSV (the header row decides "
        "which; nothing is imported if any row has an error), or export both to a folder.",
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    imp = actions.add_parser("import", help="load a Maracs or contacts CSV file",
                             description="Load a Maracs or contacts CSV (formats in "
                             "interface.md). Exit 1 with row-numbered errors; then nothing "
                             "is imported. The first Maracs file imported while the DEMO "
                             "registry is in use replaces it: the demo Maracs, contacts and "
                             "demo submissions are removed in the same transaction.")
    imp.add_argument("file", type=Path, metavar="FILE.csv")
    imp.add_argument("--replace", action="store_true",
                     help="the file is the whole list of its kind: Maracs or contacts it no "
                     "longer lists are retired (no reminders, no sign-in, not counted), "
                     "their data kept")
    imp.set_defaults(handler="bot.commands.registry_cmd:run_import")
    exp = actions.add_parser("export", help="write maracs.csv and contacts.csv to DIR")
    exp.add_argument("directory", type=Path, metavar="DIR")
    exp.set_defaults(handler="bot.commands.registry_cmd:run_export")


def add_db_parser(sub: Any) -> None:
    parser = sub.add_parser("db", help=COMMANDS["db"],
                            description="Database maintenance for operators.")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    up = actions.add_parser("upgrade", help="apply schema migrations",
                            description="Bring the database at MARAC_DATABASE_URL up to the "
                            "current schema. Safe to run at any time.")
    up.set_defaults(handler="bot.commands.db_cmd:run_upgrade")


def add_remind_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "remind",
        help=COMMANDS["remind"],
        description="Send the quarterly reminders, escalations and managers' digests due on a "
        "day (today by default) to the Maracs that have not uploaded. Only quarters from "
        "MARAC_TRACK_FROM on are chased (when it is unset, from the first quarter ending after "
        "the store was created), and a quarter before "
        "it never counts as a second missed one. Each reminder goes once: a second run for the "
        "same day sends nothing. The running bot sends at MARAC_REMINDER_TIME (default 09:30). "
        "Exit code 0; 2 when its output could not be written.",
    )
    parser.add_argument("--dry-run", action="store_true",
                        help="list who would get what, and send nothing")
    parser.add_argument("--today", type=iso_date, metavar="YYYY-MM-DD",
                        help="run the policy as on this day (default: today)")
    parser.add_argument("--json", action="store_true",
                        help='print a JSON array of {"marac", "quarter", "stage", "contact", '
                        '"channel", "sent"}')
    parser.set_defaults(handler="bot.commands.remind_cmd:run")


def add_ask_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "ask",
        help=COMMANDS["ask"],
        description="Answer a question about Marac data returns (try 'help'), exactly as the "
        "chat channels and email would. Without --as it asks as the local operator, who may "
        "ask about every Marac. Exit code 0: answered; 1: not understood, refused, or passed "
        "on to the data team (a message only a person can deal with, kept for them); 2: its "
        "output could not be written.",
    )
    parser.add_argument("question", metavar="QUESTION", help='e.g. "has Croydon uploaded Q3?"')
    parser.add_argument("--as", dest="as_email", metavar="EMAIL",
                        help="ask as this registered contact: their role decides what they "
                        "may ask about")
    parser.add_argument("--json", action="store_true",
                        help='print {"intent", "answer", "data", ...} as JSON')
    parser.add_argument("--save", type=Path, metavar="DIR",
                        help="write what the answer attaches (the grid image, a template) "
                        "into DIR")
    parser.add_argument("--today", type=iso_date, metavar="YYYY-MM-DD",
                        help="answer as on this day (default: today)")
    parser.set_defaults(handler="bot.commands.ask_cmd:run")


def add_history_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "history",
        help=COMMANDS["history"],
        description="The history of a Marac's meetings (one day, one quarter, or all): every "
        "version with its figures, file, sheet row, sender and time, who confirmed a change, "
        "held changes and what became of them, withdrawals and explanations. Exit code 0 "
        "(also when nothing is recorded); 1 for an unknown Marac; 2 on a usage error (a bad "
        "date) or when its output could not be written.",
    )
    parser.add_argument("marac", metavar="MARAC", help="the Marac's name or alias")
    parser.add_argument("period", nargs="?", metavar="DATE|QUARTER",
                        help="a meeting day ('2024-10-03', '3 Oct 2024') or a quarter "
                        "('Q3 2024/25'); default: every meeting")
    parser.add_argument("--as-of", type=iso_date, metavar="YYYY-MM-DD",
                        help="only what had happened by the end of this day")
    parser.add_argument("--json", action="store_true", help="print the history as JSON")
    parser.set_defaults(handler="bot.commands.history_cmd:run")


def add_withdraw_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "withdraw",
        help=COMMANDS["withdraw"],
        description="Withdraw a recorded submission, as the local operator (the data team) "
        "or, with --as, as a registered contact (a coordinator may withdraw their own latest "
        "submission for a quarter until it is due). Each meeting it made current gets a new "
        "version with the figures from before it (a meeting it created is left with no "
        "figures); its held changes are dropped. Nothing is deleted: history shows both. The "
        "submitter is told. Exit code 0 when withdrawn; 1 when refused (no such submission, "
        "already withdrawn, not allowed).",
    )
    parser.add_argument("submission", type=int, metavar="SUBMISSION",
                        help="the submission's number, as replies and history show it")
    parser.add_argument("--as", dest="as_email", metavar="EMAIL",
                        help="withdraw as this registered contact, with their rights "
                        "(default: the local operator, who may withdraw any submission)")
    parser.add_argument("--reason", metavar="TEXT", help="why, for the submitter")
    parser.set_defaults(handler="bot.commands.withdraw_cmd:run")


def add_report_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "report",
        help=COMMANDS["report"],
        description="Write a report as the local operator sees it. Exit code 0; 2 on a usage "
        "error or when the report could not be written.",
    )
    reports = parser.add_subparsers(dest="report", required=True, metavar="REPORT")
    for kind, (short, long) in REPORT_HELP.items():
        one = reports.add_parser(kind, help=short,
                                 description=f"{long} Exit code 0; 2 on a usage error or "
                                 "when the report could not be written.")
        _add_report_arguments(one, kind)
        one.set_defaults(handler="bot.commands.report_cmd:run")
        if kind != "grid":
            one.add_argument("--as-of", type=iso_date, metavar="YYYY-MM-DD",
                             help="the figures as they stood at the end of this day")
        if kind == "meetings":
            _add_meetings_arguments(one)


def _add_report_arguments(parser: argparse.ArgumentParser, kind: str) -> None:
    names = ", ".join(f"{kind}{s}" for s in REPORT_SUFFIXES[kind])
    parser.add_argument("--year", metavar="YYYY/YY",
                        help="financial year, e.g. 2024/25 (default: the year of the last "
                        "quarter that ended)")
    parser.add_argument("--region", metavar="R",
                        help="only the Maracs of this region, police force area or nation")
    parser.add_argument("--out", type=Path, metavar="FILE",
                        help=f"{names} (default: print the text)")
    parser.add_argument("--today", type=iso_date, metavar="YYYY-MM-DD",
                        help="as on this day (default: today)")


def _add_meetings_arguments(parser: argparse.ArgumentParser) -> None:
    """The export's own choices: one quarter instead of a year, one Marac instead of an area."""
    parser.add_argument("--quarter", metavar="Q",
                        help="one quarter, e.g. 'Q3 2024/25' (instead of --year)")
    parser.add_argument("--marac", metavar="NAME", help="one Marac (instead of --region)")
    parser.set_defaults(handler="bot.commands.meetings_cmd:run")
