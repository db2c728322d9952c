"""The HTML part of an answer to a question. The grid answer shows its picture inline
(``cid:``) above the same grid as an HTML table, each cell coloured as in the picture, so a
mail client that blocks images still shows every Marac and quarter; other answers leave the
HTML to the channel (its plain text, escaped, in paragraphs and lists).
"""

from __future__ import annotations

from collections.abc import Sequence
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
    result: Result, attachments: tuple[Attachment, ...], notes: Sequence[str] = ()
) -> tuple[str | None, tuple[Attachment, ...]]:
    """The HTML for an answer, and its attachments with any shown inline marked so; None
    when the plain text says it all. ``notes``: what the plain text adds about the question's
    names ("(taking 'Lambth' as Lambeth)", an unknown place), said beneath the grid too."""
    if not isinstance(result, GridAnswer):
        return None, attachments
    image = next((a for a in attachments if a.content_type == "image/png"), None)
    kept = tuple(replace(a, inline_id=GRID_IMAGE_ID) if a is image else a for a in attachments)
    lines = [wording.ANSWER_RESTRICTED] if result.place.restricted else []
    html = grid_html(result.grid, image_id=GRID_IMAGE_ID if image else None,
                     notes=(*lines, *notes))
    return html, kept


def grid_html(grid: grid_report.Grid, *, image_id: str | None, notes: Sequence[str] = ()) -> str:
    """``notes`` beneath the grid: that Maracs outside the asker's scope were left out, and
    what was made of the names asked about, as the plain text says them."""
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
    parts += [f"<p>{escape(note)}</p>" for note in notes]
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
