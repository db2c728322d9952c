"""Dashboard questions (interface.md "Questions the bot answers"): has X uploaded, who is
missing, a Marac's year, figures, the national picture, the upload grid, the template, help.

    answer = answer_question(session, "has Croydon uploaded Q3?", asker=contact,
                             settings=settings, today=today)
    answer.text, answer.result, answer.attachments

``answer.result`` is a typed value of its kind (kernel/answers: ``HasUploaded``, ``Missing``,
``Status``, ``Figure``, ``Summary``, ``Template``, ``Help``; reports/answers.py ``GridAnswer``)
or why the question was not answered (``UnknownName``, ``Refusal``, …); ``answer.data`` is its
``to_dict()``, the ``data`` of ``marac-bot ask --json``.
"""

from __future__ import annotations

from handlers.questions.engine import Understanding, answer_question, understanding
from handlers.questions.matchers import MATCHERS, asks_plainly, looks_like_question
from handlers.questions.model import Answer

__all__ = [
    "MATCHERS",
    "Answer",
    "Understanding",
    "answer_question",
    "asks_plainly",
    "looks_like_question",
    "understanding",
]
