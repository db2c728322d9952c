"""A thank-you under a signature block and mail-system notices is still only thanks; a thanks
followed by something said is not (handlers/letter.py, handlers/help.py ``is_thanks``)."""

from __future__ import annotations

import pytest

from handlers import letter
from handlers.help import is_thanks
from kernel.messages import InboundMessage, ThreadRef

SIGNATURE = ("Jo Bloggs\nMarac Coordinator | Lambeth Council\nTel: 020 7926 1234\n"
             "www.lambeth.gov.uk")
NOTICE = ("This email is confidential and intended solely for the addressee. If you have "
          "received it in error please notify the sender and delete it.")


def _mail(text: str) -> InboundMessage:
    return InboundMessage("email", "jo@lambeth.gov.uk", ThreadRef("email", "t"), text=text)


@pytest.mark.parametrize("text", [
    f"Thanks!\n\n{SIGNATURE}\n\n{NOTICE}",
    f"Many thanks, that's great.\n\n{SIGNATURE}",
    f"Thanks\n\n{NOTICE}\n\n{NOTICE}",
])
def test_thanks_under_a_signature_and_notices_is_thanks(text: str) -> None:
    assert is_thanks(_mail(text))


@pytest.mark.parametrize("text", [
    # Said after the thanks, in sentences: more than a thank-you.
    "Thanks. We had a second meeting in March that is not in the file yet and I will add it "
    "once the chair has signed off the minutes, which should be by the end of next week, so "
    "expect another file from me then.",
    f"Thanks\nWho is missing Q2 in London\nthen?\n\n{SIGNATURE}",
    f"Thanks\n\n{SIGNATURE}\nCan you check Croydon?",
    f"Hello Jo\n\n{SIGNATURE}",
])
def test_more_than_thanks_is_not_thanks(text: str) -> None:
    assert not is_thanks(_mail(text))


def test_what_is_said_leaves_out_signature_lines_and_notices() -> None:
    assert letter.said(["Jo Bloggs", "Tel: 020 7926 1234", NOTICE]) == ""
    # Six words and no full stop: a signature line; seven words, or a sentence, are said.
    assert letter.said(["one two three four five six"]) == ""
    assert letter.said(["one two three four five six seven"]) == "one two three four five six seven"
    assert letter.said(["See you soon."]) == "See you soon."
    assert letter.said(["Is that right?", "Great!"]) == "Is that right? Great!"
