"""Every file of the hostile corpus, mailed in by a registered coordinator, is recorded and
answered once, with no incident, on PostgreSQL.

tests/test_hostile_corpus.py runs the same corpus through ``marac-bot validate``. Recording is
another matter: PostgreSQL refuses what SQLite takes (a NUL character, a sheet's name past its
column's length), and either refusal failed the whole message, with an apology for an answer.
This sends each file the way a coordinator would, by email through the worker
(tests/dispatch_support.Mailroom), to find the next such thing before a coordinator does.
PostgreSQL only: SQLite refuses nothing of this kind, and the 400 messages take a minute or
two on each database.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from bot.channels.email.inbound import SPREADSHEET_TYPES
from store.db import Store
from store.models import Submission
from tests import hostile_corpus
from tests.dispatch_support import File, Mailroom, compose, load_registry
from tests.test_dispatch import settings_for
from tests.test_hostile_corpus import COUNT, SEED

# Each file goes as the type a mail client gives its extension.
CONTENT_TYPES = {extension: content_type for content_type, extension in SPREADSHEET_TYPES.items()}


@pytest.fixture
def mailroom(pg_schema_url: str, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[Mailroom]:
    store = Store.open(pg_schema_url)
    try:
        with store.transaction() as session:
            load_registry(session)
        yield Mailroom(store, settings_for(tmp_path_factory.mktemp("mail")))
    finally:
        store.close()


@pytest.mark.postgres

def test_every_hostile_file_mailed_in_is_recorded_and_answered_once(mailroom: Mailroom) -> None:
    sent: dict[int, str] = {}
    for name, data in hostile_corpus.generate(SEED, COUNT):
        content_type = CONTENT_TYPES["." + name.rsplit(".", 1)[-1]]
        raw = compose(files=[File(name, data, content_type)], subject="Q3 return")
        sent[mailroom.deliver(raw)] = name
    mailroom.work()  # one worker for all of them, as ``run`` has
    outcomes: Counter[str | None] = Counter()
    wrong = []
    for item_id, name in sent.items():
        handled = mailroom.handled(item_id)
        outcomes[handled.outcome] += 1
        # An incident is "failed", with an apology for its one reply.
        if (handled.status, len(handled.replies)) != ("done", 1) or not (
                handled.outcome or "").startswith("submission-"):
            wrong.append((name, handled.status, handled.outcome, handled.error))
    assert not wrong, f"{len(wrong)} of {len(sent)}: {wrong[:5]}"
    with mailroom.store.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Submission)) == len(sent)
    # The corpus reaches every kind of outcome, so none of them passes by never happening.
    assert {"submission-accepted", "submission-rejected", "submission-partially-accepted"} <= set(
        outcomes), outcomes
