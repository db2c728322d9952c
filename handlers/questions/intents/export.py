"""'send me the Q3 data for London', 'export Croydon 2024/25' (issue 13): the meetings export as
a file attached to the answer (reports/meetings_export.py).

Who may have it (spec §6): admins (and the local operator) for every Marac, managers for the
Maracs in their scope, as they may ask about them. Coordinators and chairs ask about their own
Maracs but get figures in answers, not whole data files: a file travels on, beyond the bot's
scope checks, so it goes only to those whose work is the data across Maracs.
"""

from __future__ import annotations

from handlers.export import Selection, export_file, file_name
from handlers.questions.context import Ask, Place, place_of, unclear_period
from handlers.questions.model import Finding
from handlers.questions.period import default_year
from handlers.questions.scope import OPERATOR
from kernel import wording
from kernel.messages import Attachment
from kernel.quarters import FinancialYear, Quarter
from reports.history_answers import ExportAnswer
from store.models import Role

INTENT = "export"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAY_EXPORT = frozenset({OPERATOR, Role.ADMIN.value, Role.MANAGER.value})


def answer(ask: Ask) -> Finding:
    if (unclear := unclear_period(ask, INTENT)) is not None:
        return unclear
    e = ask.entities
    period: Quarter | FinancialYear = e.quarter or e.year or default_year(ask.today)
    if ask.scope.role not in MAY_EXPORT:
        value = ExportAnswer(None, period.label, 0, None, refused=True)
        return Finding(INTENT, False, value, refused_reason=value.text)
    place = place_of(ask, INTENT, need_marac=False)
    if not isinstance(place, Place):
        return place
    whole = ask.scope.everything and place.area is None and place.marac is None
    label = wording.place_name(place.info()) if not whole else None
    selection = Selection(None if whole else tuple(place.marac_ids), label)
    suffix = ".csv" if "csv" in e.residual.split() else ".xlsx"
    content, count = export_file(ask.session, selection, period, suffix=suffix,
                                 tz=ask.settings.tz, when=None)
    name = file_name(selection, period, suffix)
    value = ExportAnswer(label, period.label, count, name if count else None,
                         restricted=place.restricted)
    if not count:
        return Finding(INTENT, True, value)
    data = content.encode("utf-8") if isinstance(content, str) else content
    kind = "text/csv" if suffix == ".csv" else XLSX
    return Finding(INTENT, True, value, attachments=(Attachment(name, data, kind),))
