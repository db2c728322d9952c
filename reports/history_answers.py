"""Answers about where figures came from and to have them as a file (issue 13), beside the
other answers (reports/answers.py): "history of Croydon 3 Oct 2024", "what changed in
Croydon's Q3?", "send me the Q3 data for London". The text is made when the answer is, since
it needs the time zone the bot runs in."""

from __future__ import annotations

from dataclasses import dataclass

from kernel import wording
from kernel.answers import Json


@dataclass(frozen=True)
class HistoryAnswer:
    marac: str
    period: str | None  # "3 Oct 2024", "Q3 2024/25"; None: every meeting
    text: str  # the history as reports/history_text.py tells it
    data: tuple[Json, ...]  # the same as JSON (history_json)

    def to_dict(self) -> Json:
        return {"marac": self.marac, "period": self.period, "meetings": list(self.data)}


@dataclass(frozen=True)
class ExportAnswer:
    place: str | None  # "London", "Croydon"; None: every Marac
    period: str  # "Q3 2024/25" or "2024/25"
    meetings: int
    filename: str | None  # the attachment; None when refused
    refused: bool = False
    restricted: bool = False  # Maracs of the place outside the asker's scope were left out

    @property
    def text(self) -> str:
        if self.refused:
            return wording.export_refused_text()
        text = wording.export_answer_text(self.place, self.period, self.meetings, self.filename)
        return f"{text}\n{wording.ANSWER_RESTRICTED}" if self.restricted else text

    def to_dict(self) -> Json:
        return {"place": self.place, "period": self.period, "meetings": self.meetings,
                "file": self.filename, "refused": self.refused, "restricted": self.restricted}
