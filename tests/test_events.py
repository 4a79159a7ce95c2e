"""Every event the hub writes follows schemas/events.schema.json, and the schema is strict.

The shipped demo runs once (a subprocess in an empty folder, as a user runs it) and every
envelope in its log is validated. The demo makes no merge, retires no customer and reads
no interaction, so a small store fed through the same code (``hub.testing.ingest`` and
``hub.store.interactions.record``) supplies those events.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from sqlalchemy import Engine

from hub.errors import RecordRejected
from hub.events import SCHEMA, EventType
from hub.matching import MatchSettings
from hub.records import RawRecord, Target
from hub.store import interactions, quarantine
from hub.store.engine import open_engine, unit_of_work
from hub.store.master import MasterRepository
from hub.store.outbox import read
from hub.store.quarantine import Rejection
from hub.testing import ingest, record

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "schemas" / "events.schema.json"

Envelope = dict[str, Any]


@pytest.fixture(name="schema", scope="module")
def _schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return schema


@pytest.fixture(name="validator", scope="module")
def _validator(schema: dict[str, Any]) -> Draft202012Validator:
    # Format checking on: event_id must be a UUID, occurred_at a date-time.
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


@pytest.fixture(name="demo_events", scope="module")
def _demo_events(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Envelope]]:
    cwd = tmp_path_factory.mktemp("events-demo")
    done = subprocess.run([sys.executable, "-m", "hub", "run"], cwd=cwd, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 3, done.stderr   # the demo's bad values wait in quarantine
    engine = open_engine(f"sqlite:///{cwd}/.peyvand/master.sqlite")
    try:
        yield [event.envelope() for event in read(engine)]
    finally:
        engine.dispose()


@pytest.fixture(name="store_events", scope="module")
def _store_events(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Envelope]]:
    """A merge, a retirement and two interactions (one attached, one not), read back."""
    engine = open_engine(f"sqlite:///{tmp_path_factory.mktemp('events-store')}/s.sqlite")
    try:
        _feed(engine)
        yield [event.envelope() for event in read(engine)]
    finally:
        engine.dispose()


def _feed(engine: Engine) -> None:
    mobile = "+989351112233"
    ingest(engine, [record("crm", "1", {"kind": "person", "name.full": "رضا یزدانی",
                                        "phones.phone:mobile": mobile}),
                    record("crm", "3", {"kind": "person", "name.full": "نگار صالحی",
                                        "emails.email": "negar@example.ir"})])
    ingest(engine, [record("web", "a", {"kind": "person", "name.full": "Reza Yazdani",
                                        "emails.email": "reza@example.ir"})])
    # Holds both masters' keys: the newer master is absorbed into the older one.
    ingest(engine, [record("web", "b", {"kind": "person", "emails.email": "reza@example.ir",
                                        "phones.phone:mobile": mobile})])
    # crm/3 was Reza all along: it moves, and Negar's master is left without records.
    ingest(engine, [record("crm", "3", {"kind": "person", "name.full": "رضا یزدانی",
                                        "phones.phone:mobile": mobile})])
    sms = {"channel": "sms", "direction": "inbound", "occurredAt": "2026-11-22T09:15:00+00:00",
           "summary": "لطفا تماس بگیرید"}
    with unit_of_work(engine, "recording test interactions") as conn:
        interactions.record(conn, [
            record("sms", "m-1", {**sms, "contact.phone:mobile": mobile}, Target.INTERACTION),
            record("sms", "m-2", {**sms, "contact.phone:mobile": "+989127654321"},
                   Target.INTERACTION),
        ])
        # crm/1 is gone at its source: Reza's customer is rebuilt without it.
        MasterRepository(MatchSettings().matcher(), ()).close(conn, [("crm", "1")])
        nobody = RawRecord("9", {"name": "", "mobile": "0912abc"}, "crm.csv row 10")
        quarantine.add(conn, [Rejection("crm", "crm", nobody, RecordRejected(
            "the record has no name, national code, e-mail or phone", field="name.full"))])


def _errors(validator: Draft202012Validator, envelope: Envelope) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(envelope)]


def _first(events: list[Envelope], type_: str) -> Envelope:
    return copy.deepcopy(next(e for e in events if e["type"] == type_))


# --- the real events validate ------------------------------------------------------------

def test_every_demo_event_follows_the_schema(demo_events, validator) -> None:  # type: ignore[no-untyped-def]
    assert len(demo_events) > 100
    invalid = {e["seq"]: errors for e in demo_events if (errors := _errors(validator, e))}
    assert invalid == {}


def test_the_demo_emits_created_and_updated(demo_events) -> None:  # type: ignore[no-untyped-def]
    types = {e["type"] for e in demo_events}
    # The demo merges no masters, reads no interactions and rejects no record whole (its
    # bad values are set aside): those events come from store_events.
    assert types == {"customer.created", "customer.updated"}
    assert all(e["subject"] == e["data"]["customer"]["id"] for e in demo_events)


def test_subjects_of_record_events_are_their_source(store_events) -> None:  # type: ignore[no-untyped-def]
    for e in store_events:
        if not e["type"].startswith("customer."):
            source = e["data"].get("source") or e["data"]["interaction"]["source"]
            assert e["subject"] == f"{source['system']}/{source['id']}"


def test_merged_retired_and_interaction_events_follow_the_schema(store_events, validator) -> None:  # type: ignore[no-untyped-def]
    assert {e["type"] for e in store_events} == {
        "customer.created", "customer.merged", "customer.updated", "interaction.recorded",
        "record.rejected"}
    invalid = {e["seq"]: errors for e in store_events if (errors := _errors(validator, e))}
    assert invalid == {}
    merged = _first(store_events, "customer.merged")
    assert merged["data"]["merged_ids"] and merged["subject"] not in merged["data"]["merged_ids"]
    [closing] = [e for e in store_events if "closed_sources" in e["data"]]
    assert closing["data"]["closed_sources"] == [{"system": "crm", "id": "1"}]
    assert {"system": "crm", "id": "1"} not in closing["data"]["customer"]["sources"]
    retired = [e for e in store_events if e["type"] == "customer.updated"
               and e["data"]["customer"]["status"] == "retired"]
    assert len(retired) == 1 and retired[0]["data"]["customer"]["sources"] == []
    attached = {e["subject"]: e["data"]["customer_id"] for e in store_events
                if e["type"] == "interaction.recorded"}
    assert attached["sms/m-1"] == merged["subject"] and attached["sms/m-2"] is None


# --- the schema rejects wrong payloads ---------------------------------------------------

def _source_as_string(e: Envelope) -> None:
    customer = e["data"]["customer"]
    customer["sources"] = [f"{s['system']}/{s['id']}" for s in customer["sources"]]


def _field_source_as_string(e: Envelope) -> None:
    value = next(iter(e["data"]["customer"]["fields"].values()))[0]
    value["source"] = f"{value['source']['system']}/{value['source']['id']}"


def _no_customer_id(e: Envelope) -> None:
    del e["data"]["customer"]["id"]


def _rejected_with_version(e: Envelope) -> None:
    e["version"] = 1


def _created_without_version(e: Envelope) -> None:
    e["version"] = None


def _created_retired(e: Envelope) -> None:
    e["data"]["customer"]["status"] = "retired"


def _rejected_without_field(e: Envelope) -> None:
    del e["data"]["field"]


def _unknown_type(e: Envelope) -> None:
    e["type"] = "customer.deleted"


def _old_schema(e: Envelope) -> None:
    e["schema"] = "urn:peyvand:event:v0"


def _extra_envelope_key(e: Envelope) -> None:
    e["master_id"] = e["subject"]


BROKEN: list[tuple[str, Callable[[Envelope], None], str]] = [
    ("customer.created", _source_as_string, "data/customer/sources/0"),
    ("customer.created", _field_source_as_string, "data/customer/fields/"),
    ("customer.created", _no_customer_id, "data/customer"),
    ("record.rejected", _rejected_with_version, "version"),
    ("customer.created", _created_without_version, "version"),
    ("customer.created", _created_retired, "data/customer/status"),
    ("record.rejected", _rejected_without_field, "data"),
    ("customer.updated", _unknown_type, "type"),
    ("customer.updated", _old_schema, "schema"),
    ("record.rejected", _extra_envelope_key, ": Additional properties"),
]


@pytest.mark.parametrize(("type_", "breaks", "where"), BROKEN,
                         ids=[b.__name__.strip("_") for _, b, _ in BROKEN])
def test_a_wrong_payload_is_rejected_where_it_is_wrong(  # type: ignore[no-untyped-def]
        demo_events, store_events, validator, type_: str,
        breaks: Callable[[Envelope], None], where: str) -> None:
    envelope = _first(demo_events + store_events, type_)
    assert _errors(validator, envelope) == []   # valid before the change
    breaks(envelope)
    errors = _errors(validator, envelope)
    assert errors, f"{breaks.__name__} was accepted"
    assert any(e.startswith(where) for e in errors), errors


def test_merged_ids_are_required_and_never_empty(store_events, validator) -> None:  # type: ignore[no-untyped-def]
    merged = _first(store_events, "customer.merged")
    merged["data"]["merged_ids"] = []
    assert _errors(validator, merged)
    del merged["data"]["merged_ids"]
    assert _errors(validator, merged)


def test_an_interaction_needs_its_customer_id_key(store_events, validator) -> None:  # type: ignore[no-untyped-def]
    interaction = _first(store_events, "interaction.recorded")
    interaction["data"]["customer_id"] = "crm/1"   # a source ref is no customer id
    assert _errors(validator, interaction)
    del interaction["data"]["customer_id"]
    assert _errors(validator, interaction)


# --- the schema and the catalogue agree ---------------------------------------------------

def test_the_type_enum_is_exactly_the_catalogue(schema) -> None:  # type: ignore[no-untyped-def]
    enum = schema["properties"]["type"]["enum"]
    assert len(enum) == len(set(enum))
    assert set(enum) == {t.value for t in EventType}
    # Each type has its own payload rule; a type without one would pass unchecked.
    ruled = [rule["if"]["properties"]["type"]["const"] for rule in schema["allOf"]]
    assert sorted(ruled) == sorted(enum)


def test_the_schema_carries_the_catalogue_version(schema) -> None:  # type: ignore[no-untyped-def]
    assert schema["$id"] == SCHEMA
    assert schema["properties"]["schema"]["const"] == SCHEMA
    assert "JSON" in schema["description"] and "XSD" in schema["description"]
