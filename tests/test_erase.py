"""Erasure on SQLite and PostgreSQL: a right-to-be-forgotten request leaves no trace of
the person in any table or event, in any written form, and touches no one else."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from sqlalchemy import Engine, select

from hub.app import Hub
from hub.errors import MasteringRefused, RecordRejected
from hub.events import ERASED
from hub.records import CanonicalRecord, RawRecord, Target
from hub.standardize.persian_text import text_key, to_ascii_digits
from hub.store import inbox, interactions, quarantine
from hub.store.engine import unit_of_work
from hub.store.outbox import read
from hub.store.quarantine import Rejection
from hub.store.tables import erasures, masters, metadata, source_records
from hub.testing import national_code, project, record

SCHEMA = json.loads((Path(__file__).resolve().parents[1] / "schemas" /
                     "events.schema.json").read_text(encoding="utf-8"))
CODE = national_code("004512369")
# Ali, in every form he reached the hub in: what must be gone afterwards (folded below).
ALI = [CODE, "9121234567", "ali.karimi@example.ir", "علی کریمی", "Ali Karimi"]
SARA = ["sara@x.ir", "9357654321", "سارا احمدی"]


@pytest.fixture(name="hub")
def _hub(engine: Engine, tmp_path: Path) -> Hub:
    return Hub(project(tmp_path, {}, {}).config, engine=engine)


def _rec(system: str, sid: str, fields: dict[str, str],
         target: Target = Target.CUSTOMER) -> tuple[CanonicalRecord, RawRecord]:
    canon, raw = record(system, sid, ({"kind": "person"} if target is Target.CUSTOMER
                                      else {}) | fields, target)
    return canon, raw


def _sms(sid: str, mobile: str) -> tuple[CanonicalRecord, RawRecord]:
    return _rec("sms", sid, {"channel": "sms", "direction": "inbound", "summary": "سلام",
                             "occurredAt": "2026-11-20T10:00:00+03:30",
                             "contact.phone:mobile": mobile}, Target.INTERACTION)


def _feed(hub: Hub) -> None:
    """Ali through two sources (merged by his mobile), a quarantined record, an SMS and a
    form post waiting in the inbox; Sara beside him with the same kinds of rows."""
    with unit_of_work(hub.engine, "test feed") as conn:
        repo = hub.masters()
        repo.ingest(conn, [_rec("erp", "1", {"name.full": "علی کریمی", "nationalCode": CODE,
                                             "phones.phone:mobile": "+989121234567"})])
        repo.ingest(conn, [_rec("erp", "2", {"name.full": "سارا احمدی",
                                             "emails.email": "sara@x.ir",
                                             "phones.phone:mobile": "+989357654321"})])
        repo.ingest(conn, [_rec("web", "7", {"name.full": "Ali Karimi",
                                             "emails.email": "ali.karimi@example.ir",
                                             "phones.phone:mobile": "+989121234567"})])
        interactions.record(conn, [_sms("m-1", "+989121234567"), _sms("m-2", "+989357654321")])
        quarantine.add(conn, [
            # Arabic letters, Persian digits with spaces: the same person, written otherwise.
            Rejection("web", "web", RawRecord("8", {"name": "علي كريمي",
                                                    "mobile": "۰۹۱۲ ۱۲۳ ۴۵۶۷",
                                                    "birth": "13۶۲/۱۳/۰۱"}, "web.csv row 9"),
                      RecordRejected("'13۶۲/۱۳/۰۱' is not a date", field="birthDate")),
            Rejection("web", "web", RawRecord("9", {"name": "سارا احمدی", "birth": "x"},
                                              "web.csv row 10"),
                      RecordRejected("'x' is not a date", field="birthDate"))])
    inbox.accept(hub.engine, "contact-form", {"email": "ALI.Karimi@Example.IR",
                                              "message": "لطفا اطلاعات مرا حذف کنید"})
    inbox.accept(hub.engine, "contact-form", {"email": "sara@x.ir", "message": "سلام"})


def _master_of(hub: Hub, system: str, sid: str) -> str:
    with hub.engine.connect() as conn:
        return str(conn.execute(select(source_records.c.master_id).where(
            source_records.c.source_system == system,
            source_records.c.source_id == sid)).scalar_one())


def _dump(engine: Engine) -> dict[str, list[str]]:
    """Every row of every table of the store, each cell as text (JSON as written)."""
    out: dict[str, list[str]] = {}
    with engine.connect() as conn:
        for name, table in metadata.tables.items():
            out[name] = [json.dumps(list(row), default=str, ensure_ascii=False, sort_keys=True)
                         for row in conn.execute(select(table))]
    return out


def _traces(dump: dict[str, list[str]], values: list[str]) -> list[tuple[str, str]]:
    """(table, value) for each value found in any written form: digits of any script
    with anything between them, letters folded, spaces, ZWNJ and case ignored."""
    found = []
    for table, rows in dump.items():
        for row in rows:
            # JSON escapes (\u200c) and punctuation out; the store's own folding after.
            plain = json.loads(f"[{row[1:-1]}]") if row.startswith("[") else row
            text = " ".join(_strings(plain))
            digits = re.sub(r"\D", "", to_ascii_digits(text))
            folded = text_key(to_ascii_digits(text)).replace(" ", "")
            for value in values:
                v = text_key(value).replace(" ", "")
                if (v.isdigit() and v in digits) or (not v.isdigit() and v in folded):
                    found.append((table, value))
    return found


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        try:
            decoded = json.loads(value)
        except ValueError:
            return [value]
        return _strings(decoded) if not isinstance(decoded, str) else [decoded]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [str(value)]


def test_erase_leaves_no_trace_and_touches_no_one_else(hub: Hub) -> None:
    _feed(hub)
    ali, sara = _master_of(hub, "erp", "1"), _master_of(hub, "erp", "2")
    assert _master_of(hub, "web", "7") == ali
    before = _dump(hub.engine)
    assert {t for t, _ in _traces(before, ALI)} >= {
        "masters", "source_records", "blocking_keys", "interactions", "quarantine", "inbox",
        "outbox"}   # the test can see every kind of trace
    sara_rows = {t: [r for r in rows if _traces({t: [r]}, SARA)] for t, rows in before.items()}
    version = hub.customer(ali).version   # type: ignore[union-attr]

    counts = hub.erase(ali, request="DSR-2026-118")

    after = _dump(hub.engine)
    assert _traces(after, ALI) == []
    assert counts["source_records"] == 2 and counts["interactions"] == 1
    assert counts["quarantine"] == 1 and counts["inbox"] == 1
    for table, rows in sara_rows.items():   # Sara's rows are all there, unchanged
        if table not in ("masters", "outbox"):
            assert set(rows) <= set(after[table]), table
    view = hub.customer(sara)
    assert view is not None and view.sources == ["erp/2"] and view.status == "active"
    assert [i.source_id for i in view.interactions] == ["m-2"]
    with hub.engine.connect() as conn:
        tomb = conn.execute(select(masters).where(masters.c.id == ali)).one()
        done = conn.execute(select(erasures)).one()
    assert (tomb.status, tomb.golden, tomb.search_text) == ("erased", {}, "")
    assert (done.master_id, done.request, done.counts) == (ali, "DSR-2026-118", counts)
    events = read(hub.engine)
    about_ali = [e for e in events if e.subject in (ali, "sms/m-1", "web/8")]
    assert all(e.data == ERASED for e in about_ali[:-1]) and len(about_ali) >= 4
    erased = about_ali[-1]
    assert (erased.type, erased.version, erased.data["customer_id"]) == (
        "customer.erased", version + 1, ali)
    assert erased.data["sources"] == [{"system": "erp", "id": "1"},
                                      {"system": "web", "id": "7"}]
    validator = Draft202012Validator(SCHEMA)
    assert [e.seq for e in events if list(validator.iter_errors(e.envelope()))] == []
    assert any(e.subject == sara and e.data != ERASED for e in events)


def test_an_erased_customer_cannot_be_erased_merged_or_found_again(hub: Hub) -> None:
    _feed(hub)
    ali, sara = _master_of(hub, "erp", "1"), _master_of(hub, "erp", "2")
    hub.erase(ali, request=None)
    with pytest.raises(MasteringRefused, match=f"cannot erase customer {ali}: it was already"):
        hub.erase(ali)
    with pytest.raises(MasteringRefused, match="is erased, not active"):
        hub.merge(ali, sara)
    assert hub.search("علی کریمی") == [] and hub.search(CODE) == []


def test_a_merged_away_id_is_not_erased_by_mistake(hub: Hub) -> None:
    with unit_of_work(hub.engine, "two Alis") as conn:
        hub.masters().ingest(conn, [_rec("erp", "1", {"name.full": "علی کریمی"})])
        hub.masters().ingest(conn, [_rec("web", "1", {"name.full": "Ali K",
                                                      "emails.email": "ali@x.ir"})])
    a, b = sorted((_master_of(hub, "erp", "1"), _master_of(hub, "web", "1")))
    hub.merge(a, b)
    with pytest.raises(MasteringRefused, match=f"{b}: it was merged into {a}: erase that"):
        hub.erase(b)
    counts = hub.erase(a)
    assert counts["masters"] == 2 and counts["merge_history"] == 1
    with hub.engine.connect() as conn:
        assert set(conn.execute(select(masters.c.status)).scalars()) == {"erased"}


def test_a_record_sent_again_after_erasure_is_a_new_customer(hub: Hub) -> None:
    _feed(hub)
    ali = _master_of(hub, "erp", "1")
    hub.erase(ali)
    with unit_of_work(hub.engine, "erp sends erp/1 again") as conn:
        hub.masters().ingest(conn, [_rec("erp", "1", {"name.full": "علی کریمی",
                                                      "nationalCode": CODE})])
    again = _master_of(hub, "erp", "1")
    assert again != ali
    view = hub.customer(again)
    assert view is not None and view.status == "active" and view.sources == ["erp/1"]
    tomb = hub.customer(ali)
    assert tomb is not None and tomb.status == "erased" and tomb.sources == []
