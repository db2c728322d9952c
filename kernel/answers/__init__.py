"""Answers to dashboard questions as typed values (issue 11, "types at the seams"): one frozen
dataclass per kind of question and per reason a question went unanswered, made of the parts
in ``parts`` and ``figures``. handlers/questions builds them, reports/answers.py and
kernel/wording/questions.py word them, and each ``to_dict`` gives the ``data`` of
``marac-bot ask --json`` (interface.md).

They sit in the kernel because the wording at the bottom reads them as well as the handlers at
the top build them.
"""

from kernel.answers.figures import (
    Count,
    FieldFigure,
    Figures,
    FigureValue,
    Fte,
    PartnerShare,
    Per10k,
    PoliceShare,
    Rate,
    RepeatRate,
    Share,
)
from kernel.answers.intents import (
    Figure,
    FigurePeriod,
    HasUploaded,
    Help,
    HelpTopic,
    HowTo,
    Meaning,
    Missing,
    Status,
    Summary,
    Template,
)
from kernel.answers.parts import (
    Area,
    Coordinator,
    HeldChange,
    Json,
    MissingMarac,
    PlaceInfo,
    QuarterInfo,
    QuarterStatus,
    Received,
    ScopeInfo,
    State,
    YearInfo,
)
from kernel.answers.problems import (
    NeedMarac,
    NoMaracsIn,
    Problem,
    Refusal,
    SeveralAreas,
    SeveralMaracs,
    UnclearPeriod,
    UnknownName,
)

__all__ = [
    "Area",
    "Coordinator",
    "Count",
    "FieldFigure",
    "Figure",
    "FigurePeriod",
    "FigureValue",
    "Figures",
    "Fte",
    "HasUploaded",
    "HeldChange",
    "Help",
    "HelpTopic",
    "HowTo",
    "Json",
    "Meaning",
    "Missing",
    "MissingMarac",
    "NeedMarac",
    "NoMaracsIn",
    "PartnerShare",
    "Per10k",
    "PlaceInfo",
    "PoliceShare",
    "Problem",
    "QuarterInfo",
    "QuarterStatus",
    "Rate",
    "Received",
    "Refusal",
    "RepeatRate",
    "ScopeInfo",
    "SeveralAreas",
    "SeveralMaracs",
    "Share",
    "State",
    "Status",
    "Summary",
    "Template",
    "UnclearPeriod",
    "UnknownName",
    "YearInfo",
]
