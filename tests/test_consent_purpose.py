"""Consent per channel and purpose (issue 9, item 7): ``consents.consent:sms/marketing``
from a mapping through validation to the golden record, the export and the read API;
the most restrictive statement per (channel, purpose), a channel-wide "no" holding for
every purpose, and an unmerge giving each customer back its own."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import xmlschema
from jsonschema import Draft202012Validator
from lxml import etree
from sqlalchemy import Engine, select

from hub.app import Hub
from hub.errors import MappingError
from hub.export import EXPORT_NS, customer_element
from hub.mapping import load_mapping
from hub.mapping.xslt_mapping import path_problem
from hub.pipeline import Preparer
from hub.records import CanonicalRecord, RawRecord, Value
from hub.resources import data_dir
from hub.schema_model import load_model
from hub.serve.read_models import Customer
from hub.store.engine import unit_of_work
from hub.store.tables import masters, source_records
from hub.survivorship import Linked, build_golden
from hub.testing import project, record
from hub.validation import to_xml

SMS = "consents.consent:sms"
ADS = "consents.consent:sms/marketing"
SERVICE = "consents.consent:sms/service"
PURPOSES = ("marketing", "service", "profiling", "research")


def _linked(system: str, rid: str, day: int, **consents: str) -> Linked:
    """``sms="false"`` is ``consents.consent:sms``; ``sms__marketing`` its purpose."""
    fields = {f"consents.consent:{k.replace('__', '/')}": [Value(v, v)]
              for k, v in consents.items()}
    return Linked(CanonicalRecord(system, rid, "h", fields), (0, day, day),
                  datetime(2026, 11, 1, 9, 30) + timedelta(days=day))


def _golden(*linked: Linked) -> dict[str, list[dict[str, str]]]:
    fields: dict[str, list[dict[str, str]]] = build_golden(linked, ["accounting"])["fields"]
    return fields


# --- survivorship ------------------------------------------------------------------------

def test_the_most_restrictive_statement_is_taken_per_channel_and_purpose() -> None:
    yes = _linked("accounting", "1", 1, sms__marketing="true", sms__service="true")
    no_ads = _linked("website", "f-1", 2, sms__marketing="false")
    golden = _golden(yes, no_ads)
    assert golden[ADS] == [{"value": "false", "source": "website/f-1",
                            "rule": "most_restrictive", "at": "2026-11-03T09:30:00+00:00"}]
    # Another purpose on the same channel keeps its own statement; no channel-wide
    # consent is made up from purposes.
    assert [(v["value"], v["source"]) for v in golden[SERVICE]] == [("true", "accounting/1")]
    assert SMS not in golden


def test_a_channel_wide_no_beats_a_purpose_yes() -> None:
    stop = _linked("sms", "kavenegar:1", 1, sms="false")
    ads_yes = _linked("website", "f-1", 5, sms__marketing="true")   # later, and trusted
    golden = _golden(stop, ads_yes)
    assert golden[ADS] == [{"value": "false", "source": "sms/kavenegar:1",
                            "rule": "most_restrictive", "at": "2026-11-02T09:30:00+00:00"}]
    assert golden[SMS][0]["source"] == "sms/kavenegar:1"
    # The same source saying yes to one purpose after its channel-wide no does not lift it.
    ads_from_sms = _linked("sms", "kavenegar:2", 6, sms__marketing="true")
    assert _golden(stop, ads_from_sms)[ADS][0]["source"] == "sms/kavenegar:1"
    # A channel-wide yes from the same source takes the no back: the purpose is its own.
    start = _linked("sms", "kavenegar:3", 7, sms="true")
    assert [(v["value"], v["source"]) for v in _golden(stop, ads_yes, start)[ADS]] == [
        ("true", "website/f-1")]


def test_a_purposes_own_no_stays_its_own_under_a_channel_wide_no() -> None:
    stop = _linked("sms", "kavenegar:1", 3, sms="false")
    ads_no = _linked("website", "f-1", 1, sms__marketing="false")
    assert _golden(stop, ads_no)[ADS][0]["source"] == "website/f-1"
    # A channel-wide yes does not lift a purpose's no.
    start = _linked("sms", "kavenegar:2", 4, sms="true")
    golden = _golden(ads_no, start)
    assert (golden[ADS][0]["value"], golden[SMS][0]["value"]) == ("false", "true")


def test_each_source_speaks_by_its_newest_statement_per_purpose() -> None:
    no = _linked("website", "f-1", 1, sms__marketing="false")
    unrelated = _linked("website", "f-2", 2, sms__service="false")   # another purpose
    yes = _linked("website", "f-3", 3, sms__marketing="true")
    assert _golden(no, unrelated)[ADS][0]["value"] == "false"
    assert [(v["value"], v["source"]) for v in _golden(yes, no, unrelated)[ADS]] == [
        ("true", "website/f-3")]
    # Another source's older no still beats it: across sources, any no wins.
    crm_no = _linked("accounting", "9", 0, sms__marketing="false")
    assert _golden(yes, no, crm_no)[ADS][0]["source"] == "accounting/9"


# --- mapping, validation, export ---------------------------------------------------------

MAPPING = """\
fields:
  name.full: {from: name}
  phones.phone:mobile: {from: mobile}
  consents.consent:sms: {from: sms_ok}
  consents.consent:sms/marketing: {from: ads_ok}
  consents.consent:email/research: {from: surveys_ok}
"""


def test_a_purpose_mapped_goes_through_validation_to_xml_and_the_export(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text(MAPPING, encoding="utf-8")
    prepare = Preparer(load_mapping(tmp_path / "m.yaml"), "web")
    rec = prepare(RawRecord("r1", {"name": "سارا احمدی", "mobile": "09121234567",
                                   "sms_ok": "بله", "ads_ok": "خیر", "surveys_ok": "yes"}))
    assert {p: rec.values(p) for p in rec.fields if p.startswith("consents.")} == {
        SMS: ["true"], ADS: ["false"], "consents.consent:email/research": ["true"]}
    model = load_model("customer")
    consents = to_xml(rec, model).findall(f"{{{model.namespace}}}consents/*")
    assert {(c.attrib.get("channel"), c.attrib.get("purpose"), c.text) for c in consents} == {
        ("email", "research", "true"), ("sms", None, "true"), ("sms", "marketing", "false")}
    assert model.validator.validate(to_xml(rec, model))

    # And back out: the golden record, the master export and the event schema's paths.
    golden = build_golden([Linked(rec, (0, 1, 1))], [])
    doc = etree.Element(f"{{{EXPORT_NS}}}customers", nsmap={None: EXPORT_NS})
    doc.append(customer_element("C1", 1, "active", golden))
    text = etree.tostring(doc, encoding="unicode")
    decoded = xmlschema.XMLSchema(str(data_dir("schemas") / "master.xsd")).to_dict(text)
    exported = decoded["customer"][0]["consents"]["consent"]
    # The export leaves a channel-wide consent without @purpose; master.xsd reads it as
    # "all" (its default), so a consumer decoding with defaults sees that.
    assert [(c["@channel"], c["@purpose"], c["$"]) for c in exported] == [
        ("email", "research", True), ("sms", "all", True), ("sms", "marketing", False)]
    assert 'purpose="all"' not in text
    schema = json.loads((data_dir("schemas") / "events.schema.json").read_text("utf-8"))
    field_path = Draft202012Validator(schema["$defs"]["fieldPath"])
    assert all(field_path.is_valid(p) for p in golden["fields"])
    assert not field_path.is_valid("consents.consent:sms/marketing/x")


def _export(*consents: tuple[str, str | None]) -> str:
    body = "".join(f'<consent channel="{ch}"{f" purpose={p!r}" if p else ""} '
                   'sourceSystem="crm" sourceId="1">false</consent>' for ch, p in consents)
    return (f'<customers xmlns="{EXPORT_NS}"><customer id="C1" version="1" status="active">'
            '<sources><source system="crm" id="1"/></sources>'
            '<kind sourceSystem="crm" sourceId="1">person</kind>'
            f"<consents>{body}</consents></customer></customers>")


@pytest.mark.parametrize(("consents", "valid"), [
    ([("sms", None), ("sms", "marketing"), ("sms", "service"), ("email", "marketing")], True),
    ([(ch, p) for ch in ("email", "sms", "phone", "post") for p in (None, *PURPOSES)], True),
    ([("sms", "marketing"), ("sms", "marketing")], False),
    ([("sms", None), ("sms", None)], False),   # the default "all" keeps this one checked
    ([("sms", "ads")], False),
])
def test_master_xsd_holds_one_consent_per_channel_and_purpose(
        consents: list[tuple[str, str | None]], valid: bool) -> None:
    xsd = xmlschema.XMLSchema(str(data_dir("schemas") / "master.xsd"))
    assert xsd.is_valid(_export(*consents)) is valid
    assert xsd.is_valid(_export(("sms", None))) is True   # the document itself is sound


def test_an_unknown_purpose_is_a_mapping_error_naming_the_field(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text(
        "fields:\n  name.full: {from: name}\n  consents.consent:sms/ads: {from: ads_ok}\n"
        "  consents.consent:fax/marketing: {from: fax_ok}\n"
        "  phones.phone:mobile/marketing: {from: mobile}\n", encoding="utf-8")
    with pytest.raises(MappingError) as info:
        load_mapping(tmp_path / "m.yaml")
    text = str(info.value)
    assert ("fields.consents.consent:sms/ads: 'ads' is not a purpose of consents.consent:sms "
            "(allowed: marketing, service, profiling, research)") in text
    assert ("fields.consents.consent:fax/marketing: 'fax' is not a channel of "
            "consents.consent (allowed: email, sms, phone, post)") in text
    assert "fields.phones.phone:mobile/marketing: 'mobile/marketing' is not a type of " \
           "phones.phone" in text
    # A stylesheet's computed path is checked the same way, record by record.
    model = load_model("customer")
    assert path_problem("consents.consent:sms/ads", model, {}) == (
        "'ads' is not a purpose of consents.consent:sms (allowed: marketing, service, "
        "profiling, research)")
    assert path_problem(ADS, model, {}) is None


# --- store: merge, unmerge, read API -----------------------------------------------------

@pytest.fixture(name="hub")
def _hub(engine: Engine, tmp_path: Path) -> Hub:
    return Hub(project(tmp_path, {}, {}).config, engine=engine)


def _ingest(hub: Hub, system: str, sid: str, fields: dict[str, str]) -> str:
    with unit_of_work(hub.engine, "test batch") as conn:
        hub.masters().ingest(conn, [record(system, sid, {"kind": "person", **fields})])
    with hub.engine.connect() as conn:
        return str(conn.execute(select(source_records.c.master_id).where(
            source_records.c.source_system == system,
            source_records.c.source_id == sid)).scalar_one())


def _consents(hub: Hub, master_id: str) -> dict[str, tuple[str, str]]:
    with hub.engine.connect() as conn:
        golden = conn.execute(select(masters.c.golden).where(
            masters.c.id == master_id)).scalar_one()
    return {p: (v[0]["value"], v[0]["source"]) for p, v in golden["fields"].items()
            if p.startswith("consents.")}


def test_unmerge_gives_each_customer_back_its_own_consents_per_purpose(hub: Hub) -> None:
    a = _ingest(hub, "erp", "1", {"name.full": "مریم رضایی", "phones.phone:mobile":
                                  "+989121110000", SMS: "false", SERVICE: "true"})
    b = _ingest(hub, "web", "a", {"name.full": "سارا احمدی", "emails.email": "sara@x.ir",
                                  ADS: "true", SERVICE: "false",
                                  "consents.consent:email/research": "true"})
    assert a != b
    before = {m: _consents(hub, m) for m in (a, b)}
    assert before[b][ADS] == ("true", "web/a")
    hub.merge(a, b)
    merged = _consents(hub, a)
    assert merged[ADS] == ("false", "erp/1")        # erp's channel-wide no holds
    assert merged[SERVICE] == ("false", "web/a")    # web's own no beats erp's yes
    assert merged["consents.consent:email/research"] == ("true", "web/a")
    view = hub.customer(a)
    assert view is not None
    answer = {(c.channel, c.purpose): (c.opted_in, c.source.system)
              for c in Customer.of(view).consent}
    assert answer == {("sms", None): (False, "erp"), ("sms", "marketing"): (False, "erp"),
                      ("sms", "service"): (False, "web"),
                      ("email", "research"): (True, "web")}
    hub.unmerge(a)
    assert {m: _consents(hub, m) for m in (a, b)} == before
