"""Validation issues (spec §4): the one issue-code table, and how an issue reads."""

from __future__ import annotations

from typing import Any

from kernel.wording.common import _cut_text, _Defaulting

# ---------------------------------------------------------------------------------------------
# Validation issues (spec §4). Each template may use {value}, {column}, {cell} and the extra
# parameters its check passes in.
# ---------------------------------------------------------------------------------------------

ISSUE_TEMPLATES: dict[str, str] = {
    "unreadable-file": "We could not read this file: {reason}. Please send the Marac data "
    "template as .xlsx, .xlsm, .xls, .ods or .csv.",
    "encrypted-file": "This file is password protected, so we cannot open it. Please remove the "
    "password (File > Info > Protect Workbook in Excel) and send it again.",
    "file-too-large": "This file is too large to check safely ({reason}). Please send only the "
    "Marac data sheet, under {limit}.",
    "unknown-template": "We could not find the Marac data template in this file. {reason} Please "
    "copy your figures into the current template (ask us for a blank one) and send it again.",
    "duplicate-column": "The column {column!r} appears more than once (cells {cells}). Please "
    "delete the extra column so each figure appears once.",
    "no-data-rows": "The template has its headers but no meetings. Please add one row per "
    "meeting, starting in row 2.",
    "missing-marac": "The Marac name in {cell} is blank. Please enter the Marac's name.",
    "unknown-marac": "We do not know a Marac called {value!r} ({cell}).{suggestion} Please use "
    "the Marac's registered name.",
    "not-authorised": "You are not registered to send data for {value} ({cell}). Please ask "
    "that Marac's coordinator to send it, or ask the data team to add you.",
    "missing-date": "The meeting date in {cell} is blank. Please enter the date of the meeting.",
    "invalid-date": "We could not read {value!r} in {cell} as a date. Please enter the meeting "
    "date as a date, e.g. 03/10/2024.",
    "future-date": "The meeting date {value} in {cell} is in the future. Please check the date.",
    "date-outside-quarter": "The meeting date {value} in {cell} is not in {quarter}. Please "
    "check the date, or send this meeting with its own quarter's return.",
    "missing-cases": "Cases discussed ({cell}) is blank. Please enter how many cases the "
    "meeting heard (0 if none).",
    "invalid-count": "{column} ({cell}) must be a whole number of 0 or more, not {value!r}. "
    "Please correct it, or leave it blank if the figure was not collected.",
    "exceeds-cases": "{column} ({cell}) is {value}, more than the {cases} cases discussed "
    "({cases_cell}). Please correct one of them.",
    "ethnicity-exceeds-cases": "The ethnic groups ({cells}) add up to {total}, more than the "
    "{cases} cases discussed ({cases_cell}). Please correct them.",
    "duplicate-meeting": "{marac} on {value} appears {times} times in this file (rows {rows}), "
    "so none of those rows was taken. Please keep one row per meeting.",
    "cases-zero-with-counts": "Cases discussed ({cell}) is 0 but {others} are not. Please "
    "correct the cases discussed, or clear the other figures.",
    "referrals-do-not-sum": "The referral sources (G–T) in row {row} add up to {total}, but "
    "cases discussed ({cell}) is {cases}. Please check them.",
    "children-inconsistent": "Row {row}: {detail} Please check the children figures (E and F).",
    "minoritised-below-groups": "The minoritised ethnic groups (AB, AC, AD, AF) in row {row} "
    "add up to {total}, more than the {value} in {cell}. Please check them.",
    "unusual-repeat-rate": "{marac}'s repeat rate for {quarter} would be {rate}, outside the "
    "usual {low}–{high}. Please check the repeat cases (column D).",
    "unusual-police-share": "{marac}'s police referrals for {quarter} would be {rate} of cases, "
    "above the usual {high}. Please check the referral sources.",
    "unusual-volume": "{marac} would have {cases} cases for {quarter}, {comparison} the "
    "{expected} expected for its population. Please check the cases discussed.",
    "changed-from-previous": "{marac} on {meeting_date} was already sent with different "
    "figures: {changes}. These changes are held until you confirm them.",
    "unchanged": "{marac} on {meeting_date} was already sent with the same figures: nothing to "
    "do.",
    "normalised-value": "{cell}: we read {value!r} as {normalised}.",
    "ignored-column": "Columns we do not use were ignored: {columns}.",
    "ignored-sheet": "The sheet {value!r} was ignored.",
    "registry-not-checked": "Marac names were not checked against the registry (no registry "
    "is loaded here).",
}


def issue_message(code: str, **params: Any) -> str:
    """The message for an issue code; missing parameters render as blanks, never crash. What
    the file holds (the value, its column header) is quoted at most ``ECHO_CHARS`` long."""
    template = ISSUE_TEMPLATES[code]
    for key in _FROM_THE_FILE:
        if isinstance(params.get(key), str):
            params[key] = _cut_text(params[key])
    return template.format_map(_Defaulting(params))


# The parameters whose text comes from the submitted file rather than from us.
_FROM_THE_FILE = ("value", "column")


