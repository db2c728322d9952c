"""Validation issues (spec §4): the one issue-code table, and how an issue reads.

Each code has one row here: its severity, its level, what it does to its row beyond rejecting
it, and its template (STYLE.md 16). Validation names codes from this table and renders no text
of its own; the table sits in the kernel so that every layer can read it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from kernel.wording.common import _cut_text, fill, short_list


class Severity(StrEnum):
    """Hard issues block (the file or the row); soft ones ask for a check; info ones tell."""

    HARD = "hard"
    SOFT = "soft"
    INFO = "info"


class Level(StrEnum):
    """What a finding is about, and so what a hard one rejects (spec §4)."""

    FILE = "file"  # the whole file: a hard finding rejects all of it
    SHEET = "sheet"  # how the sheets were read (columns, other sheets, names): notes only
    ROW = "row"  # one meeting row (or a group of them): a hard finding rejects just those
    QUARTER = "quarter"  # a Marac's quarter once this file is taken: never blocks


class RowMark(StrEnum):
    """What a finding that does not reject its row makes of it (spec §4, stored meetings)."""

    HELD = "held"  # different figures from those stored: waits for the submitter to confirm
    UNCHANGED = "unchanged"  # the same figures as those stored: nothing to do


@dataclass(frozen=True)
class IssueCode:
    """One code of the catalogue. ``template`` may use {value}, {column}, {cell}, {row} and
    the parameters its check passes in; a missing one renders blank, never crashes."""

    code: str
    severity: Severity
    level: Level
    template: str
    marks_row: RowMark | None = None
    # The template when the finding's field is required (parameter ``required``): cases
    # discussed (C) left blank is a hard missing-cases, so its advice must not say to.
    required_template: str | None = None

    def render(self, params: dict[str, Any]) -> str:
        """The message for these parameters. What the file holds (the value, its column
        header) is quoted at most ``ECHO_CHARS`` long; ``params`` is changed to say so."""
        for key in _FROM_THE_FILE:
            if isinstance(params.get(key), str):
                params[key] = _cut_text(params[key])
        template = self.template
        if params.get("required") and self.required_template is not None:
            template = self.required_template
        return fill(template, params)


# The {value} of a cell holding a formula whose result was never calculated and saved.
FORMULA_WITHOUT_VALUE = "a formula with no stored value"

# The parameters whose text comes from the submitted file rather than from us.
_FROM_THE_FILE = ("value", "column", "marac")

_HARD, _SOFT, _INFO = Severity.HARD, Severity.SOFT, Severity.INFO
_FILE, _SHEET, _ROW, _QUARTER = Level.FILE, Level.SHEET, Level.ROW, Level.QUARTER

_CATALOGUE = (
    # Hard, file level: the whole file is rejected.
    IssueCode("unreadable-file", _HARD, _FILE,
              "We could not read this file: {reason}. Please send the Marac data template as "
              ".xlsx, .xlsm, .xls, .ods or .csv."),
    IssueCode("encrypted-file", _HARD, _FILE,
              "This file is password protected, so we cannot open it. Please remove the "
              "password (File > Info > Protect Workbook in Excel) and send it again."),
    IssueCode("file-too-large", _HARD, _FILE,
              "This file is too large to check safely ({reason}). Please send only the Marac "
              "data sheet, under {limit}."),
    IssueCode("unknown-template", _HARD, _FILE,
              "We could not find the Marac data template in this file. {reason} Please copy "
              "your figures into the current template (ask us for a blank one) and send it "
              "again."),
    IssueCode("duplicate-column", _HARD, _FILE,
              "The column {column!r} appears more than once (cells {cells}). Please delete the "
              "extra column so each figure appears once."),
    IssueCode("no-data-rows", _HARD, _FILE,
              "The template has its headers but no meetings. Please add one row per meeting, "
              "starting in row 2."),
    # Hard, row level: that row (or a duplicate's every row) is rejected.
    IssueCode("missing-marac", _HARD, _ROW,
              "The Marac name in {cell} is blank. Please enter the Marac's name."),
    IssueCode("unknown-marac", _HARD, _ROW,
              "We do not know a Marac called {value!r} ({cell}).{suggestion} Please use the "
              "Marac's registered name."),
    IssueCode("not-authorised", _HARD, _ROW,
              "You are not registered to send data for {value} ({cell}). Please ask that "
              "Marac's coordinator to send it, or ask the data team{team} to add you."),
    IssueCode("missing-date", _HARD, _ROW,
              "The meeting date in {cell} is blank. Please enter the date of the meeting."),
    IssueCode("invalid-date", _HARD, _ROW,
              "We could not read {value!r} in {cell} as a date. Please enter the meeting date "
              "as a date, e.g. 03/10/2024."),
    IssueCode("future-date", _HARD, _ROW,
              "The meeting date {value} in {cell} is in the future. Please check the date."),
    IssueCode("date-outside-quarter", _HARD, _ROW,
              "The meeting date {value} in {cell} is not in {quarter}. Please check the date, "
              "or send this meeting with its own quarter's return."),
    IssueCode("missing-cases", _HARD, _ROW,
              "Cases discussed ({cell}) is blank. Please enter how many cases the meeting "
              "heard (0 if none)."),
    IssueCode("invalid-count", _HARD, _ROW,
              "{column} ({cell}) must be a whole number of 0 or more, not {value!r}. Please "
              "correct it, or leave it blank if the figure was not collected.",
              required_template="{column} ({cell}) must be a whole number of 0 or more, not "
              "{value!r}. Please enter how many cases the meeting heard (0 if none)."),
    IssueCode("exceeds-cases", _HARD, _ROW,
              "{column} ({cell}) is {value}, more than the {cases} cases discussed "
              "({cases_cell}). Please correct one of them."),
    IssueCode("ethnicity-exceeds-cases", _HARD, _ROW,
              "The ethnic groups ({cells}) add up to {total}, more than the {cases} cases "
              "discussed ({cases_cell}). Please correct them."),
    IssueCode("duplicate-meeting", _HARD, _ROW,
              "{marac} on {value} appears {times} times in this file (rows {rows}), so none of "
              "those rows was taken. Please keep one row per meeting."),
    IssueCode("cases-zero-with-counts", _HARD, _ROW,
              "Cases discussed ({cell}) is 0 but {others} are not. Please correct the cases "
              "discussed, or clear the other figures."),
    # Soft: the row is accepted and the coordinator told, except a changed meeting (held).
    IssueCode("referrals-do-not-sum", _SOFT, _ROW,
              "The referral sources (G–T) in row {row} add up to {total}, but cases discussed "
              "({cell}) is {cases}. Please check them."),
    IssueCode("children-inconsistent", _SOFT, _ROW,
              "Row {row}: {detail} Please check the children figures (E and F)."),
    IssueCode("minoritised-below-groups", _SOFT, _ROW,
              "The minoritised ethnic groups (AB, AC, AD, AF) in row {row} add up to {total}, "
              "more than the {value} in {cell}. Please check them."),
    IssueCode("unusual-repeat-rate", _SOFT, _QUARTER,
              "{marac}'s repeat rate for {quarter} would be {rate}, outside the usual "
              "{low}–{high}. Please check the repeat cases (column D)."),
    IssueCode("unusual-police-share", _SOFT, _QUARTER,
              "{marac}'s police referrals for {quarter} would be {rate} of cases, above the "
              "usual {high}. Please check the referral sources."),
    IssueCode("unusual-volume", _SOFT, _QUARTER,
              "{marac} would have {cases} cases for {quarter}, {comparison} the {expected} "
              "expected for its population. Please check the cases discussed."),
    # {how}: how this channel confirms, where the reply says it nowhere else (the command
    # line); email says "Reply CONFIRM" below its list, chat has a button.
    IssueCode("changed-from-previous", _SOFT, _ROW,
              "{marac} on {meeting_date} was already sent with different figures: {changes}. "
              "Please confirm the new figures if they are right{how}; until then we keep the "
              "figures we had.",
              marks_row=RowMark.HELD),
    # Info: what was normalised or left aside.
    IssueCode("unchanged", _INFO, _ROW,
              "{marac} on {meeting_date} was already sent with the same figures: nothing to "
              "do.",
              marks_row=RowMark.UNCHANGED),
    IssueCode("normalised-value", _INFO, _ROW,
              "{cell}: we read {value!r} as {normalised}."),
    IssueCode("ignored-column", _INFO, _SHEET,
              "Columns we do not use were ignored: {columns}."),
    IssueCode("ignored-sheet", _INFO, _SHEET,
              "The sheet {value!r} was ignored."),
    IssueCode("quarter-from-meetings", _INFO, _SHEET,
              "The quarter was named as {declared} without a year; every meeting in this file "
              "is in {quarter}, so we read it as that quarter."),
    IssueCode("registry-not-checked", _INFO, _SHEET,
              "Marac names were not checked against the registry (no registry is loaded "
              "here)."),
)

ISSUE_CODES: Mapping[str, IssueCode] = MappingProxyType({c.code: c for c in _CATALOGUE})


def issue_message(code: str, **params: Any) -> str:
    """The message for an issue code; missing parameters render as blanks, never crash."""
    return ISSUE_CODES[code].render(params)


def unheaded_column(letter: str) -> str:
    """An ignored column with no header, as ignored-column's {columns} names it."""
    return f"{letter} (no header)"


# The {reason} of unknown-template (spec §4: list the missing and unexpected headers).
UNKNOWN_TEMPLATE_ALL_BLANK = "Every sheet is blank."


def unknown_template_reason(missing: Sequence[str], unexpected: Sequence[str], *,
                            none_known: bool) -> str:
    """What the header row most like the template's lacks, and what it has instead."""
    parts = ["None of its column headers is one of the template's."] if none_known else []
    if missing:
        parts.append(f"Missing headers: {short_list(missing)}.")
    if unexpected:
        parts.append(f"Headers we did not expect: {short_list(unexpected)}.")
    return " ".join(parts)
