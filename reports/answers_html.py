"""The HTML part of an answer to a question. The grid answer shows its picture inline
(``cid:``) above the same grid as an HTML table, each cell coloured as in the picture, so a
mail client that blocks images still shows every Marac and quarter; other answers leave the
HTML to the channel (its plain text, escaped, in paragraphs and lists).
"""

from __future__ import annotations

from dataclasses import replace
from html import escape

from kernel import wording
from kernel.messages import Attachment
from reports import grid as grid_report
from reports.answers import GridAnswer, Result
from reports.html_style import CELL_STYLE, HEAD_STYLE, TABLE_STYLE, TITLE_STYLE, page

# The Content-ID the grid's picture is shown by in the HTML part.
GRID_IMAGE_ID = "grid@marac"


def answer_html(
    result: Result, attachments: tuple[Attachment, ...]
) -> tuple[str | None, tuple[Attachment, ...]]:
    """The HTML for an answer, and its attachments with any shown inline marked so; None
    when the plain text says it all."""
    if not isinstance(result, GridAnswer):
        return None, attachments
    image = next((a for a in attachments if a.content_type == "image/png"), None)
    kept = tuple(replace(a, inline_id=GRID_IMAGE_ID) if a is image else a for a in attachments)
    html = grid_html(result.grid, image_id=GRID_IMAGE_ID if image else None,
                     restricted=result.place.restricted)
    return html, kept


def grid_html(grid: grid_report.Grid, *, image_id: str | None, restricted: bool = False) -> str:
    """``restricted``: some Maracs of the place asked about are outside the asker's scope, so
    the grid leaves them out and says so, as the plain text does."""
    title = wording.grid_title(grid.area, grid.year, grid.year_range, grid.as_of)
    parts = [f'<h2 style="{TITLE_STYLE}">{escape(title)}</h2>']
    if image_id:
        parts.append(
            f'<p><img src="cid:{escape(image_id)}" alt="{escape(title)}" '
            'style="max-width: 100%"></p>'
        )
    parts.append(_table(grid))
    parts += [
        f'<p style="margin: 2px 0">{escape(wording.grid_quarter_line(q))}</p>'
        for q in grid.quarters
    ]
    parts.append(
        f"<p>{escape(wording.grid_tally(len(grid.rows), grid.counts()))}<br>"
        f"{escape(wording.GRID_KEY)}</p>"
    )
    if restricted:
        parts.append(f"<p>{escape(wording.ANSWER_RESTRICTED)}</p>")
    return page("\n".join(parts))


def _table(grid: grid_report.Grid) -> str:
    if not grid.rows:
        return f"<p>{escape(wording.GRID_EMPTY)}</p>"
    heads = [wording.GRID_MARAC_HEADING, *(q["label"] for q in grid.quarters)]
    head = "".join(f'<th style="{HEAD_STYLE}">{escape(h)}</th>' for h in heads)
    rows = []
    for row in grid.rows:
        cells = "".join(
            f'<td style="{CELL_STYLE}; background: {grid_report.state_colour(c.state)}">'
            f"{escape(_cell_words(c))}</td>"
            for c in row.cells
        )
        rows.append(f'<tr><th style="{CELL_STYLE}">{escape(row.marac)}</th>{cells}</tr>')
    return f'<table style="{TABLE_STYLE}"><tr>{head}</tr>{"".join(rows)}</table>'


def _cell_words(cell: grid_report.GridCell) -> str:
    """ "accepted (6)", "held (2)", "overdue": the state, and the meetings when there are some."""
    label = wording.GRID_STATE_LABELS[cell.state]
    return f"{label} ({cell.meetings})" if cell.meetings else label
