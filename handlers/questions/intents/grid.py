"""'grid London 2024/25': the upload grid of an area (or of the asker's scope), as text with
the PNG attached for the channels that show images."""

from __future__ import annotations

from handlers.questions.context import Ask, Place, place_of, unclear_period
from handlers.questions.grid_data import load_grid
from handlers.questions.model import Finding
from handlers.questions.period import default_year
from kernel import wording
from kernel.messages import Attachment
from reports import grid as grid_report
from reports.answers import GridAnswer

INTENT = "grid"


def answer(ask: Ask) -> Finding:
    if (unclear := unclear_period(ask, INTENT)) is not None:
        return unclear
    place = place_of(ask, INTENT, need_marac=False)
    if not isinstance(place, Place):
        return place
    e = ask.entities
    year = e.year or (e.quarter.financial_year if e.quarter else default_year(ask.today))
    info = place.info()
    area = wording.place_name(info)
    grid = load_grid(
        ask.session,
        place.maracs,
        year,
        area=area,
        today=ask.today,
        due_days=ask.due_days,
        every_marac=ask.scope.everything and place.area is None and place.marac is None,
    )
    value = GridAnswer(info, year.label, grid)
    if not ask.images:
        return Finding(INTENT, True, value)
    image = Attachment(wording.grid_filename(area, year.label), grid_report.to_png(grid),
                       "image/png")
    return Finding(INTENT, True, value, attachments=(image,))
