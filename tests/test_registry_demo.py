"""Leaving demo mode and full replacements (issue 13): the first real Maracs file replaces the
demo registry and its data in one transaction; ``--replace`` retires what a full registry no
longer lists and keeps its data; ``run`` warns on every start while the demo is in use.

Through ``bot.cli.main`` on SQLite and PostgreSQL, as an operator would type it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import ColumnElement, func, select

from bot.app import _open_store
from bot.cli import main
from bot.settings import Settings
from kernel import wording
from store.db import Store
from store.models import Contact, Marac, Meeting, MeetingVersion, Submission
from store.queue import OutboundItem, QueueStatus, enqueue_outbound
from store.registry import (
    export_csv,
    find_contact,
    import_csv,
    is_demo_registry,
    load_demo_registry,
)
from tests.store_support import CONTACTS_CSV, MARACS_CSV

FIXTURES = Path(__file__).parent / "fixtures"
DEMO_COORDINATOR = "croydon.coordinator@example.org"
DEMO_MARACS, DEMO_CONTACTS = 33, 68


@dataclass
class Cli:
    capsys: pytest.CaptureFixture[str]
    store: Store
    folder: Path

    def __call__(self, *argv: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        code = main(list(argv))
        captured = self.capsys.readouterr()
        return code, captured.out, captured.err

    def csv(self, name: str, text: str) -> str:
        path = self.folder / name
        path.write_text(text, encoding="utf-8")
        return str(path)

    def count(self, model: type, *where: ColumnElement[bool]) -> int:
        with self.store.transaction() as session:
            return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


@pytest.fixture
def cli(
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Iterator[Cli]:
    monkeypatch.setenv("MARAC_DATABASE_URL", db_url)
    monkeypatch.setenv("MARAC_DATA_DIR", str(tmp_path / "marac-data"))
    monkeypatch.chdir(tmp_path)
    store = Store.open(db_url)
    try:
        yield Cli(capsys, store, tmp_path)
    finally:
        store.close()


def _demo_with_a_submission(cli: Cli) -> None:
    with cli.store.transaction() as session:
        assert load_demo_registry(session)
    code, _, err = cli(
        "submit",
        str(FIXTURES / "clean_libreoffice.xlsx"),
        "--sender",
        DEMO_COORDINATOR,
        "--quarter",
        "Q3 2024/25",
    )
    assert code == 0, err
    assert cli.count(MeetingVersion) == 6


def test_first_real_maracs_file_replaces_the_demo_and_its_data(cli: Cli) -> None:
    _demo_with_a_submission(cli)
    code, out, err = cli("registry", "import", cli.csv("maracs.csv", MARACS_CSV))
    assert code == 0, err
    assert out.splitlines() == [
        wording.demo_replaced(DEMO_MARACS, DEMO_CONTACTS, 1, 6),
        "Imported 4 Maracs: 4 new, 0 updated.",
    ]
    assert "33 Maracs and 68 contacts, and their 1 demo submission (6 meetings)" in out
    assert cli.count(Marac) == 4 and cli.count(Marac, Marac.is_demo.is_(True)) == 0
    assert cli.count(Contact) == 0
    assert (cli.count(Submission), cli.count(Meeting), cli.count(MeetingVersion)) == (0, 0, 0)
    # Croydon is a real Marac now, with no figures from the demo.
    assert cli.count(Marac, Marac.name == "Croydon") == 1
    code, out, err = cli("registry", "import", cli.csv("contacts.csv", CONTACTS_CSV))
    assert code == 0, err
    assert out.strip() == "Imported 6 contacts: 6 new, 0 updated."  # demo already gone


def test_a_refused_real_file_leaves_the_demo_untouched(cli: Cli) -> None:
    _demo_with_a_submission(cli)
    broken = MARACS_CSV + "\n,,Metropolitan Police,London,England,,\n"
    code, out, err = cli("registry", "import", cli.csv("maracs.csv", broken))
    assert code == 1
    assert "Row 6: name is blank." in err and "Demo mode" not in out + err
    assert cli.count(Marac, Marac.is_demo.is_(True)) == DEMO_MARACS
    assert cli.count(Contact) == DEMO_CONTACTS and cli.count(MeetingVersion) == 6


LONDON_CONTACTS = """name,email,role,maracs
Cara Coordinator,cara@council.example,coordinator,Croydon
Bea Barnet,bea@council.example,coordinator,Barnet;Croydon
Lena London,lena@council.example,manager,London
Ada Admin,ada@council.example,admin,*
"""


def test_contacts_imported_during_the_demo_stay_when_it_goes(cli: Cli) -> None:
    """Contacts for London's Maracs joined the demo ("Imported 4 contacts: 4 new") and went
    with it, unsaid, when the Maracs file came ("removed the DEMO registry's 33 Maracs and 72
    contacts"): an empty contacts.csv was then exported."""
    with cli.store.transaction() as session:
        assert load_demo_registry(session)
    code, out, err = cli("registry", "import", cli.csv("contacts.csv", LONDON_CONTACTS))
    assert (code, out.strip()) == (0, "Imported 4 contacts: 4 new, 0 updated."), err
    code, out, err = cli("registry", "import", cli.csv("maracs.csv", MARACS_CSV))
    assert code == 0, err
    assert out.splitlines() == [
        wording.demo_replaced(DEMO_MARACS, DEMO_CONTACTS, 0, 0),  # the demo's own: not ours
        "Kept 4 contacts imported while the demo was in use, linked to the new Maracs of the "
        "names they had. No Marac of that name in this file, so no longer linked: "
        "bea@council.example (Barnet).",
        "Imported 4 Maracs: 4 new, 0 updated.",
    ]
    assert cli.count(Contact) == 4 and cli.count(Contact, Contact.is_demo.is_(True)) == 0
    code, _, err = cli("registry", "export", str(cli.folder / "out"))
    assert code == 0, err
    exported = (cli.folder / "out" / "contacts.csv").read_text("utf-8").splitlines()
    assert exported[1:] == [
        "Ada Admin,ada@council.example,admin,*,,,email",
        "Bea Barnet,bea@council.example,coordinator,Croydon,,,email",
        "Cara Coordinator,cara@council.example,coordinator,Croydon,,,email",
        "Lena London,lena@council.example,manager,London,,,email",
    ]
    with cli.store.transaction() as session:
        cara = find_contact(session, "cara@council.example")
        assert cara is not None and [m.is_demo for m in cara.maracs] == [False]


def test_a_demo_contact_updated_during_the_demo_still_goes_with_it(cli: Cli) -> None:
    """The demo's own people stay the demo's when given a Slack id to try the bot."""
    with cli.store.transaction() as session:
        assert load_demo_registry(session)
        extra = (f"name,email,role,maracs,slack_user_id,channels\n"
                 f"Demo coordinator (Croydon),{DEMO_COORDINATOR},coordinator,Croydon,U9,"
                 "email;slack\n")
        assert import_csv(session, extra).ok
        tried = find_contact(session, DEMO_COORDINATOR)
        assert tried is not None and tried.is_demo and tried.slack_user_id == "U9"
    code, out, _ = cli("registry", "import", cli.csv("maracs.csv", MARACS_CSV))
    assert code == 0 and f"{DEMO_CONTACTS} contacts" in out and "Kept" not in out
    assert cli.count(Contact) == 0


def test_a_real_registry_is_never_replaced_by_an_upsert(cli: Cli) -> None:
    for name, text in (("m.csv", MARACS_CSV), ("c.csv", CONTACTS_CSV)):
        assert cli("registry", "import", cli.csv(name, text))[0] == 0
    code, out, _ = cli("registry", "import", cli.csv("m2.csv", MARACS_CSV))
    assert code == 0 and out.strip() == "Imported 4 Maracs: 0 new, 4 updated."
    assert cli.count(Contact) == 6


def test_replace_retires_what_is_no_longer_listed_and_keeps_its_data(cli: Cli) -> None:
    for name, text in (("m.csv", MARACS_CSV), ("c.csv", CONTACTS_CSV)):
        assert cli("registry", "import", cli.csv(name, text))[0] == 0
    code, _, err = cli(
        "submit",
        str(FIXTURES / "clean_libreoffice.xlsx"),
        "--sender",
        "cara@example.org",
        "--quarter",
        "Q3 2024/25",
    )
    assert code == 0, err
    without_croydon = "\n".join(
        line for line in MARACS_CSV.splitlines() if not line.startswith("Croydon")
    )
    code, out, err = cli("registry", "import", "--replace", cli.csv("m3.csv", without_croydon))
    assert code == 0, err
    assert out.splitlines()[-1] == (
        "Retired 1 Marac no longer listed (their data is kept): Croydon."
    )
    assert cli.count(Marac) == 4 and cli.count(Marac, Marac.retired_at.is_not(None)) == 1
    assert cli.count(MeetingVersion) == 6  # Croydon's figures stay
    with cli.store.transaction() as session:
        maracs_csv, _ = export_csv(session, cli.folder / "export")
    assert "Croydon" not in maracs_csv.read_text(encoding="utf-8")

    without_cara = "\n".join(
        line for line in CONTACTS_CSV.splitlines() if "cara@" not in line and "Croydon" not in line
    )
    code, out, err = cli("registry", "import", "--replace", cli.csv("c2.csv", without_cara))
    assert code == 0, err
    assert (
        "Retired 2 contacts no longer listed (their data is kept): cara@example.org and "
        "chris@example.org." in out
    )
    with cli.store.transaction() as session:
        assert find_contact(session, "cara@example.org") is None  # no longer a known sender
        assert find_contact(session, "ada@example.org") is not None

    # Listed again: back in service, with its data.
    code, out, _ = cli("registry", "import", cli.csv("m4.csv", MARACS_CSV))
    assert code == 0 and cli.count(Marac, Marac.retired_at.is_not(None)) == 0


def test_an_export_after_a_replace_imports_again_unchanged(cli: Cli) -> None:
    """A contact still linked to a retired Marac was exported with it ("cara@…,coordinator,
    Croydon") and the import of that export failed: "Row 3: 'Croydon' is not a Marac in the
    registry". The link is data kept on retiring, so the import takes it back."""
    for name, text in (("m.csv", MARACS_CSV), ("c.csv", CONTACTS_CSV)):
        assert cli("registry", "import", cli.csv(name, text))[0] == 0
    without_croydon = "\n".join(
        line for line in MARACS_CSV.splitlines() if not line.startswith("Croydon"))
    assert cli("registry", "import", "--replace", cli.csv("m2.csv", without_croydon))[0] == 0
    first, again = cli.folder / "first", cli.folder / "again"
    assert cli("registry", "export", str(first))[0] == 0
    contacts = (first / "contacts.csv").read_text("utf-8")
    assert "cara@example.org,coordinator,Croydon," in contacts
    for name in ("maracs.csv", "contacts.csv"):
        code, out, err = cli("registry", "import", str(first / name))
        assert code == 0, err
    assert out.strip() == "Imported 6 contacts: 0 new, 6 updated."
    assert cli("registry", "export", str(again))[0] == 0
    for name in ("maracs.csv", "contacts.csv"):
        assert (again / name).read_text("utf-8") == (first / name).read_text("utf-8")
    assert cli.count(Marac, Marac.retired_at.is_not(None)) == 1  # still retired

    # Only a link that is there already: a retired Marac takes no one new.
    for row in ("Nia New,nia@example.org,coordinator,Croydon",  # a new contact
                "Dana Dual,dana@example.org,coordinator,Croydon"):  # not linked to it
        code, _, err = cli("registry", "import",
                           cli.csv("c3.csv", f"name,email,role,maracs\n{row}\n"))
        assert code == 1 and "Row 2: 'Croydon' is not a Marac in the registry" in err


def test_without_replace_nothing_is_retired(cli: Cli) -> None:
    assert cli("registry", "import", cli.csv("m.csv", MARACS_CSV))[0] == 0
    code, out, _ = cli(
        "registry",
        "import",
        cli.csv("one.csv", MARACS_CSV.splitlines()[0] + "\n" + MARACS_CSV.splitlines()[1]),
    )
    assert code == 0 and "Retired" not in out
    assert cli.count(Marac, Marac.retired_at.is_(None)) == 4


def test_run_says_on_every_start_while_the_demo_is_in_use(
    db_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(database_url=db_url, data_dir=tmp_path / "data")
    caplog.set_level(logging.WARNING)
    for start in range(2):
        caplog.clear()
        store = _open_store(settings)
        store.close()
        messages = [r.getMessage() for r in caplog.records]
        assert wording.DEMO_IN_USE in messages, start
        assert (wording.DEMO_REGISTRY_LOADED in messages) == (start == 0)
    store = Store.open(db_url)
    with store.transaction() as session:
        assert import_csv(session, MARACS_CSV).ok and not is_demo_registry(session)
    store.close()
    caplog.clear()
    _open_store(settings).close()
    assert wording.DEMO_IN_USE not in [r.getMessage() for r in caplog.records]


def test_a_retired_marac_takes_no_figures_and_is_not_chased(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MARAC_TRACK_FROM", "Q3 2024/25")
    for name, text in (("m.csv", MARACS_CSV), ("c.csv", CONTACTS_CSV)):
        assert cli("registry", "import", cli.csv(name, text))[0] == 0
    without_croydon = "\n".join(
        line for line in MARACS_CSV.splitlines() if not line.startswith("Croydon")
    )
    assert cli("registry", "import", "--replace", cli.csv("m2.csv", without_croydon))[0] == 0
    file = str(FIXTURES / "clean_libreoffice.xlsx")
    code, out, _ = cli("submit", file, "--sender", "ada@example.org", "--json")
    assert code == 1
    assert {i["code"] for i in json.loads(out)[0]["issues"]} >= {"unknown-marac"}
    assert cli.count(MeetingVersion) == 0
    code, out, _ = cli("remind", "--dry-run", "--today", "2025-01-02", "--json")
    chased = {r["marac"] for r in json.loads(out)}
    assert code == 0 and "Barking and Dagenham" in chased and "Croydon" not in chased


def test_mail_still_queued_for_demo_contacts_is_never_sent(cli: Cli) -> None:
    with cli.store.transaction() as session:
        assert load_demo_registry(session)
        # A reminder waiting for a relay that is down, and one already sent.
        waiting = enqueue_outbound(
            session,
            key="reminder:demo-1",
            channel="email",
            recipient=DEMO_COORDINATOR,
            payload=b"x",
        )
        sent = enqueue_outbound(
            session,
            key="reminder:demo-2",
            channel="email",
            recipient=DEMO_COORDINATOR,
            payload=b"x",
        )
        session.get_one(OutboundItem, sent).status = QueueStatus.SENT.value
    code, out, _ = cli("registry", "import", cli.csv("maracs.csv", MARACS_CSV))
    assert code == 0 and "1 message queued for demo contacts will not be sent." in out
    with cli.store.transaction() as session:
        assert session.get_one(OutboundItem, waiting).status == QueueStatus.FAILED.value
        assert session.get_one(OutboundItem, sent).status == QueueStatus.SENT.value


def test_real_contacts_before_the_real_maracs_say_which_file_comes_first(cli: Cli) -> None:
    with cli.store.transaction() as session:
        assert load_demo_registry(session)
    code, _, err = cli("registry", "import", cli.csv("contacts.csv", CONTACTS_CSV))
    assert code == 1
    assert "Row 4: 'Barking & Dagenham' is not a Marac" not in err  # demo has it
    assert "'Leeds' is not a Marac in the registry" in err
    assert err.rstrip().endswith(wording.DEMO_MARACS_FIRST)
    assert cli.count(Marac, Marac.is_demo.is_(True)) == DEMO_MARACS  # nothing changed
