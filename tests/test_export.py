"""Exports: CSV safe from formula injection, XML well-formed with provenance."""

from __future__ import annotations

import csv
import io

from lxml import etree
from sqlalchemy import Engine

from hub.export import safe_cell, write_csv, write_xml
from hub.testing import ingest, record


def _load(engine: Engine, name: str) -> None:
    ingest(engine, [record("crm", "1", {"kind": "person", "name.full": name,
                                        "phones.phone:mobile": "+989121234567"})])


def test_formula_cells_are_neutralized(sqlite_engine: Engine) -> None:
    _load(sqlite_engine, "=HYPERLINK(\"http://x\",\"علی\")")
    buf = io.StringIO()
    assert write_csv(sqlite_engine, buf) == 1
    row = next(csv.DictReader(io.StringIO(buf.getvalue())))
    assert row["display_name"].startswith("'=HYPERLINK")
    assert row["phones.phone:mobile"] == "'+989121234567"
    assert safe_cell("علی کریمی") == "علی کریمی"
    assert safe_cell("@SUM(A1)") == "'@SUM(A1)"


def test_xml_export_names_the_source_of_each_value(sqlite_engine: Engine) -> None:
    _load(sqlite_engine, "علی کریمی")
    buf = io.StringIO()
    assert write_xml(sqlite_engine, buf) == 1
    root = etree.fromstring(buf.getvalue().encode())
    ns = {"m": "urn:peyvand:master:v1"}
    customer = root.find("m:customer", ns)
    assert customer.findtext("m:displayName", namespaces=ns) == "علی کریمی"
    phone = customer.find("m:field[@path='phones.phone']", ns)
    assert (phone.text, phone.get("qualifier"), phone.get("source")) == \
        ("+989121234567", "mobile", "crm/1")
