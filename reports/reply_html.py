"""The HTML part of a submission reply: the same content as the text, laid out for a mail
client. Findings are a table (cell, what is wrong, what to change) whose cell column has the
annotated workbook's fill (hard red, soft amber), so the email and the copy agree at a glance.

Inline styles only: mail clients drop <style> blocks and external sheets.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from html import escape

from kernel import wording
from reports.html_style import (
    CELL_STYLE,
    HEAD_STYLE,
    HEADING_STYLE,
    TABLE_STYLE,
    TITLE_STYLE,
    page,
)
from reports.issue_groups import IssueGroup
from reports.reply import (
    ReceivedFile,
    closing,
    headline,
    issue_sections,
    quarter_notes,
    refusal_notes,
)
from reports.text import outcome_line
from validation.issues import Severity


def colour_of(severity: Severity) -> str:
    """The workbook's ARGB fill as a CSS colour ("FFFF7C80" -> "#FF7C80")."""
    from reports.xlsx_cells import SEVERITY_COLOURS  # openpyxl: not for every answer's import

    return "#" + SEVERITY_COLOURS[severity][-6:]


def submission_html(
    files: Sequence[ReceivedFile], *, held_until: date | None, notes: Sequence[str] = ()
) -> str:
    parts = [
        f'<h2 style="{TITLE_STYLE}">{escape(headline(files))}</h2>',
        f"<p>{escape(wording.SUBMISSION_THANKS)}</p>",
        _list([outcome_line(f.report, checked_only=False) for f in files]),
    ]
    parts += [f"<p>{escape(note)}</p>"
              for note in (*refusal_notes(files), *notes, *quarter_notes(files))]
    for section in issue_sections(files):
        parts.append(f'<h3 style="{HEADING_STYLE}">{escape(section.heading)}</h3>')
        parts.append(_table(section.severity, section.groups))
        if section.more:
            more = wording.and_more(section.more, all_listed=section.all_listed)
            parts.append(f"<p>{escape(more.strip())}</p>")
    parts += [f"<p>{escape(paragraph)}</p>" for paragraph in closing(files, held_until)]
    return page("\n".join(parts))


def _list(items: Sequence[str]) -> str:
    if len(items) == 1:
        return f"<p>{escape(items[0])}</p>"
    return "<ul>" + "".join(f"<li>{escape(item)}</li>" for item in items) + "</ul>"


def _table(severity: Severity, groups: Sequence[IssueGroup]) -> str:
    head = "".join(
        f'<th style="{HEAD_STYLE}">{escape(title)}</th>' for title in wording.REPLY_TABLE_COLUMNS
    )
    rows = []
    for group in groups:
        cells = escape(group.cells_text or "–")
        rows.append(
            f'<tr><td style="{CELL_STYLE}; background: {colour_of(severity)}; '
            f'white-space: nowrap"><b>{cells}</b></td>'
            f'<td style="{CELL_STYLE}">{escape(group.wrong)}</td>'
            f'<td style="{CELL_STYLE}">{escape(group.change)}</td></tr>'
        )
    return f'<table style="{TABLE_STYLE}"><tr>{head}</tr>{"".join(rows)}</table>'
