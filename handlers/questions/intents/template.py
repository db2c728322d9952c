"""'template': a blank data template, made out for the asker's Marac when there is one."""

from __future__ import annotations

from handlers.questions.context import Ask
from handlers.questions.model import Finding
from handlers.questions.registry import MaracEntry
from kernel import wording
from kernel.answers import Template
from kernel.messages import Attachment
from reports.template_file import write_template
from validation.columns import Edition

INTENT = "template"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def answer(ask: Ask) -> Finding:
    marac = _marac(ask)
    attachment, edition = template_for(marac)
    value = Template(marac.name if marac else None, edition.value, attachment.filename)
    return Finding(INTENT, True, value, attachments=(attachment,))


def template_for(marac: MaracEntry | None) -> tuple[Attachment, Edition]:
    """A blank template with ``marac``'s name filled in (the Scottish edition for a Scottish
    Marac), or the plain UK template for None."""
    edition = Edition.SCOTLAND if marac and marac.nation.lower() == "scotland" else Edition.UK
    data = write_template(edition, marac=marac.name if marac else None)
    name = wording.template_filename(marac.name if marac else None)
    return Attachment(name, data, XLSX), edition


def _marac(ask: Ask) -> MaracEntry | None:
    """The Marac named (if the asker may ask about it), else the asker's only Marac."""
    named = [n for n in ask.entities.maracs if ask.scope.may_view(n)]
    if len(named) == 1:
        return ask.registry.maracs[named[0]]
    own = sorted(ask.scope.own)
    return ask.registry.maracs.get(own[0]) if len(own) == 1 else None
