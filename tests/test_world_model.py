"""A model for the world, Persian-first: foreign postcodes, typed identifiers, person or
organization per row, values routed by shape, the source system from a column, the date
forms real exports write, local landlines, and custom attributes declared in config."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import select

from hub.app import Hub
from hub.errors import ConfigError
from hub.resources import data_dir
from hub.schema_model import HARDENED_PARSER
from hub.store.tables import source_records
from hub.testing import project

MASTER_XSD = etree.XMLSchema(etree.parse(str(data_dir("schemas") / "master.xsd"),
                                         HARDENED_PARSER))


def _run(root: Path, header: str, rows: str, fields: str, *, pipeline_extra: str = "",
         config_extra: str = "") -> Hub:
    (root / "in.csv").write_text(header + "\n" + rows, encoding="utf-8")
    hub = project(root, {"crm": ("spreadsheet", "{path: ../in.csv, id_column: id}", "m.yaml")},
                  {"m.yaml": "fields:\n" + fields})
    if pipeline_extra:
        pipeline = root / "pipelines" / "crm.yaml"
        pipeline.write_text(pipeline.read_text(encoding="utf-8") + pipeline_extra,
                            encoding="utf-8")
    if pipeline_extra or config_extra:
        config = root / "config.yaml"
        config.write_text(config.read_text(encoding="utf-8") + config_extra, encoding="utf-8")
        hub = Hub.from_config(config, environ={})
    hub.run()
    return hub


def _stored(hub: Hub) -> dict[tuple[str, str], dict[str, list[str]]]:
    with hub.engine.connect() as conn:
        rows = conn.execute(select(source_records.c.source_system, source_records.c.source_id,
                                   source_records.c.canonical)).all()
    return {(s, i): {p: [v for v, _ in vs] for p, vs in c.items()} for s, i, c in rows}


def test_a_phone_without_country_code_is_read_in_the_records_country(
        tmp_path: Path) -> None:
    hub = _run(tmp_path, "id,name,country,phone",
               "1,Marie Dupont,BE,02 512 12 30\n2,Jan Jansen,Nederland?,\n"
               "3,علی کریمی,,0912 123 4567\n4,Hans Meier,,030 1234567\n",
               "  name.full: {from: name}\n  addresses.address.country: {from: country}\n"
               "  phones.phone:landline: {from: phone}\n")
    stored = _stored(hub)
    assert stored[("crm", "1")]["phones.phone:landline"] == ["+3225121230"]   # Brussels
    assert stored[("crm", "3")]["phones.phone:mobile"] == ["+989121234567"]   # Iran by default
    # No country: read as Iranian, and 030 1234567 is not an Iranian number: set aside.
    assert "phones.phone:landline" not in stored[("crm", "4")]
    assert {(q.source_id, q.field) for q in hub.quarantine()} >= {("4", "phones.phone:landline")}


def test_a_foreign_postcode_and_a_passport_number_reach_the_master(tmp_path: Path) -> None:
    hub = _run(tmp_path, "id,name,country,postcode,passport",
               "1,John Smith,GB,sw1a 1aa,x 1234 5678\n2,علی کریمی,,۱۳۴۵۶-۷۸۹۰۱,\n",
               "  name.full: {from: name}\n  addresses.address.country: {from: country}\n"
               "  addresses.address.postalCode: {from: postcode}\n"
               "  identifiers.identifier:passport: {from: passport}\n")
    stored = _stored(hub)
    assert stored[("crm", "1")]["addresses.address.postalCode"] == ["SW1A 1AA"]
    assert stored[("crm", "1")]["identifiers.identifier:passport"] == ["X12345678"]
    assert stored[("crm", "2")]["addresses.address.postalCode"] == ["1345678901"]
    assert hub.quarantine() == []
    view = hub.customer(hub.search("John Smith")[0].id)
    assert view is not None
    assert {(v.path, v.value) for v in view.values} >= {
        ("addresses.address.postalCode", "SW1A 1AA"),
        ("identifiers.identifier:passport", "X12345678")}
    # ... and the exports: XML valid against schemas/master.xsd, and JSON Lines.
    xml = io.StringIO()
    hub.export("xml", xml)
    document = etree.fromstring(xml.getvalue().encode())
    MASTER_XSD.assertValid(document)
    ns = {"m": "urn:peyvand:master:v1"}
    assert sorted(document.xpath("//m:postalCode/text()", namespaces=ns)) == [
        "1345678901", "SW1A 1AA"]
    assert document.xpath("//m:identifier[@scheme='passport']/text()", namespaces=ns) == [
        "X12345678"]
    lines = io.StringIO()
    hub.export("jsonl", lines)
    smith = next(c for c in map(json.loads, lines.getvalue().splitlines())
                 if c["display_name"] == "John Smith")
    assert smith["fields"]["identifiers.identifier:passport"][0]["value"] == "X12345678"


def test_a_passport_number_links_two_records_of_one_person(tmp_path: Path) -> None:
    hub = _run(tmp_path, "id,name,passport", "1,John Smith,X1234\n2,J. Smith,x-1234\n",
               "  name.full: {from: name}\n  identifiers.identifier:passport: {from: passport}\n")
    assert hub.count_customers() == 1
    [view] = [hub.customer(s.id) for s in hub.search("Smith")]
    assert view is not None
    assert [(r.source_id, (r.evidence or {}).get("levels", {}).get("identifier"))
            for r in view.records] == [("1", None), ("2", "exact")]


def test_person_or_organization_is_decided_per_row(tmp_path: Path) -> None:
    hub = _run(tmp_path, "id,name,company,code",
               "1,علی کریمی,,0076229645\n2,,شرکت پیوند,10100123456\n3,,Peyvand Co.,\n",
               "  name.full: {from: name}\n  organization.name: {from: company}\n"
               "  nationalCode: {from: code, by_shape: true}\n")
    stored = _stored(hub)
    assert stored[("crm", "1")]["kind"] == ["person"]
    assert stored[("crm", "1")]["nationalCode"] == ["0076229645"]
    # 11 digits in the national-code column: a company's legal id, so an organization.
    assert stored[("crm", "2")]["kind"] == ["organization"]
    assert stored[("crm", "2")]["organization.nationalId"] == ["10100123456"]
    assert "nationalCode" not in stored[("crm", "2")]
    assert stored[("crm", "3")]["kind"] == ["organization"]


def test_an_organization_is_shown_by_its_name_not_its_contact_persons(
        tmp_path: Path) -> None:
    hub = _run(tmp_path, "id,kind,company,contact",
               "1,organization,شرکت پیوند,علی کریمی\n2,person,,سارا احمدی\n",
               "  kind: {from: kind}\n  organization.name: {from: company}\n"
               "  name.full: {from: contact}\n")
    assert [r.display_name for r in hub.search("پیوند")] == ["شرکت پیوند"]
    assert [r.display_name for r in hub.search("سارا احمدی")] == ["سارا احمدی"]


def test_an_export_holding_two_systems_splits_by_column(tmp_path: Path) -> None:
    hub = _run(tmp_path, "id,system,name,mobile",
               "1,erp,علی کریمی,09121234567\n1,shop,Ali Karimi,09121234567\n"
               "2,,سارا احمدی,09351112233\n3,bad/system,Reza,09120000000\n",
               "  name.full: {from: name}\n  phones.phone:mobile: {from: mobile}\n",
               pipeline_extra="source_system_column: system\n")
    stored = _stored(hub)
    # The same id in two systems is two records, not a conflict; an empty cell falls
    # back to the pipeline's system.
    assert set(stored) == {("erp", "1"), ("shop", "1"), ("crm", "2")}
    assert hub.count_customers() == 2   # erp/1 and shop/1 are one person (same mobile)
    [held] = hub.quarantine()
    assert (held.source_id, held.field) == ("3", "source_system")
    assert "'bad/system', which is no source system name" in held.reason


def test_the_date_forms_real_exports_write(tmp_path: Path) -> None:
    hub = _run(tmp_path, "id,name,born,joined",
               "1,John Smith,12 March 1985,03/12/85\n2,Jane Doe,Sept 5 2001,05/09/01\n",
               "  name.full: {from: name}\n  birthDate: {from: born}\n"
               "  attributes.attribute:joined: {from: joined, year_pivot: 30, day_first: false}\n",
               config_extra="attributes: {joined: date}\n")
    stored = _stored(hub)
    assert stored[("crm", "1")]["birthDate"] == ["1985-03-12"]
    assert stored[("crm", "2")]["birthDate"] == ["2001-09-05"]
    assert stored[("crm", "1")]["attributes.attribute:joined"] == ["1985-03-12"]
    assert stored[("crm", "2")]["attributes.attribute:joined"] == ["2001-05-09"]


def test_a_local_landline_takes_its_area_code_from_the_city_or_the_mapping(
        tmp_path: Path) -> None:
    hub = _run(tmp_path, "id,name,phone,city",
               "1,علی کریمی,55296397,تهران\n2,سارا احمدی,32221100,اصفهان\n"
               "3,رضا یزدانی,44556677,\n",
               "  name.full: {from: name}\n  addresses.address.city: {from: city}\n"
               "  phones.phone:landline: {from: phone}\n")
    stored = _stored(hub)
    assert stored[("crm", "1")]["phones.phone:landline"] == ["+982155296397"]
    assert stored[("crm", "2")]["phones.phone:landline"] == ["+983132221100"]
    [entry] = hub.quarantine()   # no city, no default: set aside, saying why
    assert entry.source_id == "3" and "without area code" in entry.reason

    (tmp_path / "default").mkdir()
    hub = _run(tmp_path / "default", "id,name,phone",
               "3,رضا یزدانی,44556677\n",
               "  name.full: {from: name}\n"
               "  phones.phone:landline: {from: phone, area_code: 26}\n")
    assert _stored(hub)[("crm", "3")]["phones.phone:landline"] == ["+982644556677"]


def test_custom_attributes_are_typed_and_kept_with_their_lineage(tmp_path: Path) -> None:
    hub = _run(tmp_path, "id,name,tier,points,vip",
               "1,علی کریمی,طلایی,۱٬۲۵۰,بله\n2,Sara,silver,lots,no\n",
               "  name.full: {from: name}\n  attributes.attribute:tier: {from: tier}\n"
               "  attributes.attribute:points: {from: points}\n"
               "  attributes.attribute:vip: {from: vip}\n",
               config_extra="attributes: {tier: text, points: number, vip: boolean}\n")
    stored = _stored(hub)
    assert stored[("crm", "1")]["attributes.attribute:points"] == ["1250"]
    assert stored[("crm", "1")]["attributes.attribute:vip"] == ["true"]
    [entry] = hub.quarantine()
    assert (entry.source_id, entry.problems[0].field) == ("2", "attributes.attribute:points")
    view = hub.customer(hub.search("علی کریمی")[0].id)
    assert view is not None
    assert ("attributes.attribute:tier", "طلایی", "crm/1") in [
        (v.path, v.value, v.source) for v in view.values]


def test_an_undeclared_attribute_is_a_mapping_error(tmp_path: Path) -> None:
    (tmp_path / "in.csv").write_text("id,name,tier\n1,Ali,gold\n", encoding="utf-8")
    hub = project(tmp_path, {"crm": ("spreadsheet", "{path: ../in.csv}", "m.yaml")},
                  {"m.yaml": "fields:\n  name.full: {from: name}\n"
                             "  attributes.attribute:teir: {from: tier}\n"})
    with pytest.raises(ConfigError, match="'teir' is not an attribute declared in config"):
        hub.check()
