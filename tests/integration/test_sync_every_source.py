"""Every kind of source in one project, synced the way cron syncs it (``peyvand sync`` in a
process of its own): an ERP table over SQL, a drop folder of XML exports, a Maildir, and a
CSV that is re-exported whole each night.

A second sync of unchanged sources publishes nothing. Changing one row, one message and
one file of each source publishes exactly those changes; a row deleted at the ERP closes
its link (``customer.updated`` with ``closed_sources``), never silently.
"""

from __future__ import annotations

import mailbox
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from hub.app import Hub
from hub.store.outbox import Event

MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"
UBL = ('<Party xmlns="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"'
       ' xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">'
       '<cbc:EndpointID>{id}</cbc:EndpointID><PartyName><cbc:Name>{name}</cbc:Name></PartyName>'
       '<Contact><cbc:ElectronicMail>{email}</cbc:ElectronicMail></Contact></Party>')
XML_MAPPING = """\
namespaces:
  cac: urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2
  cbc: urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2
fields:
  kind:              {constant: organization}
  organization.name: {xpath: "cac:PartyName[1]/cbc:Name"}
  emails.email:      {xpath: "cac:Contact/cbc:ElectronicMail"}
"""
ERP_MAPPING = """\
fields:
  kind:                {constant: person}
  name.full:           {from: name}
  emails.email:        {from: email}
  phones.phone:mobile: {from: mobile}
"""
SHEET_MAPPING = """\
fields:
  kind:                {constant: person}
  name.full:           {from: نام}
  phones.phone:mobile: {from: موبایل}
  nationalCode:        {from: کد ملی}
"""


def _erp(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE res_partner (id INTEGER PRIMARY KEY, name TEXT, email TEXT, "
               "mobile TEXT, write_date TEXT NOT NULL, active INTEGER NOT NULL DEFAULT 1)")
    db.executemany("INSERT INTO res_partner (id, name, email, mobile, write_date) "
                   "VALUES (?, ?, ?, ?, ?)", [
                       (1, "علی کریمی", "ali@karimi.ir", "09121234567", "2026-11-20 10:00:00"),
                       (2, "سارا احمدی", "sara@ahmadi.ir", "09351112233", "2026-11-20 10:00:00"),
                       (3, "رضا محمدی", "reza@mohammadi.ir", "09190000001", "2026-11-21 09:00:00"),
                   ])
    db.commit()
    return db


def _message(sender: str, subject: str, message_id: str) -> bytes:
    return (f"From: {sender}\nTo: sales@shop.ir\nSubject: {subject}\n"
            f"Date: Mon, 23 Nov 2026 10:15:00 +0330\nMessage-ID: <{message_id}>\n"
            "Content-Type: text/plain; charset=utf-8\n\nسلام\n").encode()


def _project(root: Path) -> Path:
    for folder in ("pipelines", "mappings", "exports"):
        (root / folder).mkdir()
    pipelines = {
        "erp": "adapter: sql\noptions: {url: 'sqlite:///../erp.sqlite', table: res_partner, "
               "key: id, watermark: write_date, active_column: active, deletions: true}\n"
               "mapping: erp.yaml\n",
        "exports": "adapter: xml_files\noptions: {path: '../exports/*.xml', record_xpath: "
                   "'/cac:Party', id_xpath: 'cbc:EndpointID', settle_seconds: 0, namespaces: "
                   "{cac: 'urn:oasis:names:specification:ubl:schema:xsd:"
                   "CommonAggregateComponents-2', cbc: 'urn:oasis:names:specification:ubl:"
                   "schema:xsd:CommonBasicComponents-2'}}\nmapping: exports.yaml\n",
        "sheet": "adapter: spreadsheet\noptions: {path: ../nightly.csv, id_column: کد, "
                 "snapshot: true}\nmapping: sheet.yaml\n",
        "mail": "adapter: email\noptions: {path: ../Maildir, own_addresses: ['@shop.ir']}\n"
                "mapping: email_interactions.yaml\n",
    }
    for name, text in pipelines.items():
        (root / "pipelines" / f"{name}.yaml").write_text(
            f"{text}source_system: {name}\n", encoding="utf-8")
    for name, text in {"erp.yaml": ERP_MAPPING, "exports.yaml": XML_MAPPING,
                       "sheet.yaml": SHEET_MAPPING}.items():
        (root / "mappings" / name).write_text(text, encoding="utf-8")
    (root / "config.yaml").write_text(
        f"store: {{url: 'sqlite:///{root}/store.sqlite'}}\n"
        f"pipelines: [{', '.join(pipelines)}]\n", encoding="utf-8")
    return root / "config.yaml"


def _sheet(root: Path, rows: list[tuple[str, str, str, str]]) -> None:
    lines = ["کد,نام,موبایل,کد ملی", *(",".join(r) for r in rows)]
    (root / "nightly.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


SHEET = [("s1", "علی کریمی", "09121234567", "0076229645"),
         ("s2", "مریم حسینی", "09124445566", ""),
         ("s3", "Nima Rahimi", "09127778899", "")]


def _sync(config: Path) -> tuple[int, str]:
    """``peyvand sync`` as cron starts it; (events published, its output)."""
    done = subprocess.run([sys.executable, "-m", "hub", "--config", str(config), "sync"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    published = re.search(r"Events published: (\d+)\.", done.stdout)
    assert published, done.stdout
    return int(published.group(1)), done.stdout


def _events_after(config: Path, seq: int) -> list[Event]:
    hub = Hub.from_config(config, environ={})
    try:
        return hub.events(after=seq)
    finally:
        hub.close()


def _last_seq(config: Path) -> int:
    hub = Hub.from_config(config, environ={})
    try:
        return max((e.seq for e in hub.events()), default=0)
    finally:
        hub.close()


@pytest.fixture(name="synced")
def _synced(tmp_path: Path) -> tuple[Path, sqlite3.Connection, mailbox.Maildir]:
    config = _project(tmp_path)
    erp = _erp(tmp_path / "erp.sqlite")
    (tmp_path / "exports" / "parties-1.xml").write_text(
        UBL.format(id="P1", name="شرکت پیوند", email="info@peyvand.ir"), encoding="utf-8")
    _sheet(tmp_path, SHEET)
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    box.add(_message("Ali Karimi <ali@karimi.ir>", "سفارش", "m1@karimi.ir"))
    first, _ = _sync(config)
    assert first > 0
    return config, erp, box


def test_a_second_sync_of_unchanged_sources_publishes_nothing(
        synced: tuple[Path, sqlite3.Connection, mailbox.Maildir]) -> None:
    config, _, _ = synced
    seq = _last_seq(config)
    published, output = _sync(config)
    assert published == 0
    assert _events_after(config, seq) == []
    for pipeline in ("erp", "exports", "mail"):   # nothing new to read
        assert f"{pipeline}: read 0," in output
    # the nightly file is unchanged, so it is not even read again
    assert "sheet: read 0," in output


def test_one_change_in_each_source_publishes_exactly_that_change(
        synced: tuple[Path, sqlite3.Connection, mailbox.Maildir]) -> None:
    config, erp, box = synced
    root, seq = config.parent, _last_seq(config)
    hub = Hub.from_config(config, environ={})
    sara = hub.search("سارا احمدی")[0].id
    maryam = hub.search("مریم حسینی")[0].id
    hub.close()

    erp.execute("UPDATE res_partner SET mobile = '09350000000', write_date = "
                "'2026-11-24 08:00:00' WHERE id = 2")                  # one row
    erp.commit()
    box.add(_message("Sara Ahmadi <sara@ahmadi.ir>", "پیگیری", "m2@ahmadi.ir"))   # one message
    (root / "exports" / "parties-2.xml").write_text(                   # one file
        UBL.format(id="P2", name="Nilufar Trading", email="sales@nilufar.com"), "utf-8")
    changed = [*SHEET]
    changed[1] = ("s2", "مریم حسینی", "09124445566", "0499370899")      # one cell
    _sheet(root, changed)

    published, _ = _sync(config)
    events = _events_after(config, seq)
    assert published == len(events) == 4
    kinds = sorted((e.type, e.subject) for e in events if e.type != "customer.created")
    assert kinds == sorted([("customer.updated", sara), ("customer.updated", maryam),
                            ("interaction.recorded", "mail/m2@ahmadi.ir")])
    [created] = [e for e in events if e.type == "customer.created"]
    assert created.data["customer"]["display_name"] == "Nilufar Trading"


def test_a_row_deleted_at_the_erp_closes_its_link(
        synced: tuple[Path, sqlite3.Connection, mailbox.Maildir]) -> None:
    config, erp, _ = synced
    seq = _last_seq(config)
    hub = Hub.from_config(config, environ={})
    ali = hub.search("علی کریمی")[0].id
    reza = hub.search("رضا محمدی")[0].id
    hub.close()
    erp.execute("DELETE FROM res_partner WHERE id = 1")   # Ali stays in the sheet
    erp.execute("UPDATE res_partner SET active = 0, write_date = '2026-11-24 08:00:00' "
                "WHERE id = 3")                          # Reza is archived: nothing left
    erp.commit()

    _sync(config)
    events = {e.subject: e for e in _events_after(config, seq)}
    assert set(events) == {ali, reza}
    assert events[ali].type == "customer.updated"
    assert events[ali].data["closed_sources"] == [{"system": "erp", "id": "1"}]
    assert events[reza].type == "customer.updated"
    assert events[reza].data["customer"]["status"] == "retired"
    assert events[reza].data["closed_sources"] == [{"system": "erp", "id": "3"}]
    hub = Hub.from_config(config, environ={})
    view = hub.customer(ali)
    hub.close()
    assert view is not None and view.status == "active"
    links = {(r.source_system, r.source_id): r.closed_at for r in view.records}
    assert links[("sheet", "s1")] is None and links[("erp", "1")] is not None
    assert view.sources == ["sheet/s1"]
    shown = subprocess.run([sys.executable, "-m", "hub", "--config", str(config), "master",
                            "show", ali], capture_output=True, text=True, timeout=60)
    [erp_line] = [line for line in shown.stdout.splitlines() if line.startswith("  erp/1 ")]
    assert "gone from its source" in erp_line
