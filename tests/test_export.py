"""Exports: XML valid against schemas/master.xsd (xmlschema and xmllint alike), JSON Lines
in the events' customer shape, CSV exact unless spreadsheet-safe, the cross-reference's
keys untouched, and quarantine CSV safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import functools
import io
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import xmlschema
from click.testing import CliRunner
from jsonschema import Draft202012Validator
from lxml import etree
from sqlalchemy import Engine, func, select

from hub.cli import cli
from hub.export import (
    EXPORT_NS,
    ExportError,
    customer_element,
    opened,
    safe_cell,
    write_csv,
    write_jsonl,
    write_xml,
    write_xref,
)
from hub.resources import data_dir
from hub.schema_model import HARDENED_PARSER, load_model
from hub.store.engine import open_engine
from hub.store.tables import masters
from hub.testing import ingest, record

SCHEMA = data_dir("schemas") / "master.xsd"
NS = {"m": EXPORT_NS}
# Raw characters that must never be in an export file (finding L10).
RAW_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")


# --- validators ----------------------------------------------------------------------

@functools.cache
def _xsd() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(SCHEMA))


def _xmllint() -> str:
    """xmllint's path. Missing: fail under CI=true (.ci/run installs it), else skip."""
    found = shutil.which("xmllint")
    if found:
        return found
    message = "xmllint is missing: install Debian's libxml2-utils (apt-get install -y " \
              "libxml2-utils)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}; CI=true: .ci/run must install it", pytrace=False)
    pytest.skip(message)


def _xmllint_errors(path: Path) -> str:
    """xmllint's complaints about ``path`` against master.xsd; empty when valid."""
    done = subprocess.run([_xmllint(), "--noout", "--nonet", "--schema", str(SCHEMA),
                           str(path)], capture_output=True, text=True, timeout=120)
    return "" if done.returncode == 0 else done.stderr or f"exit {done.returncode}"


def _assert_valid(path: Path) -> None:
    _xsd().validate(str(path))
    assert _xmllint_errors(path) == ""


def _assert_invalid(path: Path) -> None:
    assert not _xsd().is_valid(str(path))
    assert "fails to validate" in _xmllint_errors(path)


# --- a golden record holding every field of the canonical model -------------------------

# A valid value per XSD type of schemas/customer.xsd; enumerated types take their first.
SAMPLES = {"Text": "کریمی", "LegalId": "10101234567", "NationalCode": "0012345679",
           "EconomicCode": "411111111111", "Identifier": "P12345678", "Date": "1985-07-03",
           "Email": "ali@example.ir", "Phone": "+989121234567", "PostalCode": "1439955991",
           "CountryCode": "IR", "Consent": "true", "AttributeValue": "طلایی"}
SOURCES = ["crm/=1+1", "erp/+98 21 000"]   # ids a spreadsheet would run, kept exact


def _every_field() -> dict[str, Any]:
    """A golden record with every leaf of the model, under every qualifier it allows, from
    two sources: adding a field to customer.xsd without master.xsd fails here."""
    fields: dict[str, list[dict[str, str]]] = {}
    for i, (path, spec) in enumerate(load_model("customer").fields.items()):
        if spec.enumeration:
            value = spec.enumeration[0]
        elif spec.type_name in SAMPLES:
            value = SAMPLES[spec.type_name]
        else:
            pytest.fail(f"no sample value for {path} ({spec.type_name}): add one here, and "
                        "the field to schemas/master.xsd")
        qualifiers = spec.qualifiers or (("loyaltyTier",) if spec.qualifier_attr else ())
        for q in qualifiers or ("",):
            target = f"{path}:{q}" if q else path
            fields[target] = [{"value": value, "source": SOURCES[i % 2]}]
    fields["emails.email"].append({"value": "a.karimi@example.com", "source": SOURCES[1]})
    return {"display_name": "علی کریمی", "fields": fields, "sources": SOURCES}


def _document(*customers: etree._Element) -> str:
    body = "".join(etree.tostring(c, encoding="unicode", pretty_print=True) for c in customers)
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<customers xmlns="{EXPORT_NS}">\n'
            f"{body}</customers>\n")


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_every_field_of_the_model_has_its_place_in_master_xsd(tmp_path: Path) -> None:
    golden = _every_field()
    doc = _write(tmp_path / "all.xml", _document(customer_element("C1", 3, "active", golden)))
    _assert_valid(doc)
    customer = etree.parse(str(doc), HARDENED_PARSER).getroot()[0]
    # The canonical model's structure, each value with its source record.
    mobile = customer.find("m:phones/m:phone[@type='mobile']", NS)
    assert mobile is not None and mobile.text == "+989121234567"
    assert (mobile.get("sourceSystem"), mobile.get("sourceId")) in {
        ("crm", "=1+1"), ("erp", "+98 21 000")}
    assert customer.findtext("m:addresses/m:address/m:city", namespaces=NS) == "کریمی"
    assert customer.find("m:attributes/m:attribute[@name='loyaltyTier']", NS) is not None
    assert [s.attrib for s in customer.iterfind("m:sources/m:source", NS)] == [
        {"system": "crm", "id": "=1+1"}, {"system": "erp", "id": "+98 21 000"}]
    assert len(customer.findall("m:emails/m:email", NS)) == 2


def _first(customer: str, old: str, new: str) -> str:
    assert old in customer, old
    return customer.replace(old, new, 1)


TAMPERED = {
    "value from a source the customer does not list":
        lambda d: _first(d, 'sourceId="=1+1">person', 'sourceId="=1+2">person'),
    "no lineage": lambda d: _first(d, ' sourceSystem="crm" sourceId="=1+1">person', ">person"),
    "two national codes": lambda d: re.sub(r"(<nationalCode [^>]*>[^<]*</nationalCode>)",
                                           r"\1\1", d, count=1),
    "no kind": lambda d: re.sub(r"<kind [^>]*>person</kind>", "", d, count=1),
    "phone not E.164": lambda d: _first(d, ">+989121234567<", ">09121234567<"),
    "unknown status": lambda d: _first(d, 'status="active"', 'status="deleted"'),
    "two consents for one channel": lambda d: re.sub(r"(<consent [^>]*>[^<]*</consent>)",
                                                     r"\1\1", d, count=1),
    "elements out of order": lambda d: re.sub(
        r"(<displayName>[^<]*</displayName>)(\s*)(<kind [^>]*>[^<]*</kind>)", r"\3\2\1", d),
    "no sources": lambda d: re.sub(r"<sources>.*?</sources>", "", d, count=1, flags=re.S),
    "another version's namespace": lambda d: _first(d, EXPORT_NS, "urn:peyvand:master:v2"),
    "a customer twice": lambda d: d.replace("</customers>", re.search(
        r"<customer .*?</customer>\n", d, re.S).group() + "</customers>"),  # type: ignore[union-attr]
}


@pytest.mark.parametrize("tamper", TAMPERED.values(), ids=TAMPERED.keys())
def test_a_tampered_document_fails_validation(tmp_path: Path, tamper: Any) -> None:
    good = _document(customer_element("C1", 3, "active", _every_field()))
    _assert_valid(_write(tmp_path / "good.xml", good))
    bad = tamper(good)
    assert bad != good
    _assert_invalid(_write(tmp_path / "bad.xml", bad))


def test_a_field_the_model_does_not_know_stops_the_xml_export() -> None:
    golden = {"fields": {"kind": [{"value": "person", "source": "crm/1"}],
                         "shoeSize": [{"value": "43", "source": "crm/1"}]},
              "sources": ["crm/1"]}
    with pytest.raises(ExportError, match="shoeSize"):
        customer_element("C1", 1, "active", golden)


# --- from a store ----------------------------------------------------------------------

def _load(engine: Engine, *records: tuple[str, str, Mapping[str, str]]) -> None:
    ingest(engine, [record(system, sid, {"kind": "person", **fields})
                    for system, sid, fields in records])


def _csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_xml_export_is_valid_and_names_the_source_of_each_value(
        sqlite_engine: Engine, tmp_path: Path) -> None:
    _load(sqlite_engine, ("crm", "1", {"name.full": "علی کریمی", "nationalCode": "0012345679",
                                       "phones.phone:mobile": "+989121234567",
                                       "emails.email": "ali@example.ir"}))
    path = tmp_path / "master.xml"
    with opened(path) as f:
        assert write_xml(sqlite_engine, f) == 1
    _assert_valid(path)
    customer = etree.parse(str(path), HARDENED_PARSER).getroot()[0]
    assert customer.findtext("m:displayName", namespaces=NS) == "علی کریمی"
    phone = customer.find("m:phones/m:phone", NS)
    assert phone is not None
    assert (phone.text, phone.get("type"), phone.get("sourceSystem"), phone.get("sourceId")) \
        == ("+989121234567", "mobile", "crm", "1")


def test_control_characters_never_reach_an_export_raw(sqlite_engine: Engine,
                                                      tmp_path: Path) -> None:
    # A store from before the pipeline refused them may hold any of these (finding L10).
    name = "علی\x00\x7f\x1b کریمی\ufffe\x85\u2028"
    _load(sqlite_engine, ("crm", "1", {"name.full": name,
                                       "phones.phone:mobile": "+989121234567"}))
    xml = tmp_path / "master.xml"
    with opened(xml) as f:
        write_xml(sqlite_engine, f)
    text = xml.read_text(encoding="utf-8")
    assert not RAW_CONTROL.search(text)
    _assert_valid(xml)
    full = etree.parse(str(xml), HARDENED_PARSER).find(".//m:name/m:full", NS)
    assert full is not None and full.text == "علی\ufffd\ufffd\ufffd کریمی\ufffd\ufffd\u2028"

    # JSON Lines stays exact: the characters travel escaped, one customer per line.
    buf = io.StringIO()
    write_jsonl(sqlite_engine, buf)
    assert not RAW_CONTROL.search(buf.getvalue()) and "\u2028" not in buf.getvalue()
    [line] = buf.getvalue().splitlines()
    assert json.loads(line)["fields"]["name.full"][0]["value"] == name

    # CSV is exact by default; spreadsheet-safe replaces them.
    buf = io.StringIO()
    write_csv(sqlite_engine, buf)
    assert _csv_rows(buf.getvalue())[0]["display_name"] == name
    buf = io.StringIO()
    write_csv(sqlite_engine, buf, spreadsheet_safe=True)
    assert not RAW_CONTROL.search(buf.getvalue())


def test_csv_keeps_values_exactly_by_default(sqlite_engine: Engine) -> None:
    _load(sqlite_engine, ("crm", "1", {"name.full": '=HYPERLINK("http://x","علی")',
                                       "nationalCode": "0012345679",
                                       "phones.phone:mobile": "+989121234567"}))
    buf = io.StringIO()
    assert write_csv(sqlite_engine, buf) == 1
    assert not buf.getvalue().startswith("\ufeff")
    [row] = _csv_rows(buf.getvalue())
    assert row["display_name"] == '=HYPERLINK("http://x","علی")'
    assert row["phones.phone:mobile"] == "+989121234567"
    assert row["nationalCode"] == "0012345679"
    assert row["sources"] == "crm/1"


def test_spreadsheet_safe_csv_neutralizes_formulas_and_keeps_numbers_as_text(
        sqlite_engine: Engine) -> None:
    _load(sqlite_engine, ("crm", "1", {"name.full": '=HYPERLINK("http://x","علی")',
                                       "nationalCode": "0012345679",
                                       "phones.phone:mobile": "+989121234567"}))
    buf = io.StringIO()
    assert write_csv(sqlite_engine, buf, spreadsheet_safe=True) == 1
    assert buf.getvalue().startswith("\ufeff")   # Excel reads UTF-8 only with it
    [row] = _csv_rows(buf.getvalue()[1:])
    assert row["display_name"] == "'=HYPERLINK(\"http://x\",\"علی\")"
    assert row["phones.phone:mobile"] == "'+989121234567"
    assert row["nationalCode"] == "'0012345679"


@pytest.mark.parametrize(("cell", "shown"), [
    ("علی کریمی", "علی کریمی"), ("@SUM(A1)", "'@SUM(A1)"), ("-2+3", "'-2+3"),
    ("\t=1", "'\t=1"), ("0912", "'0912"), ("41111111111111", "'41111111111111"),
    ("1016", "1016"), ("0", "0"), ("a\x00b\x7f", "a\ufffdb\ufffd"), ("\x00=1", "\ufffd=1"),
])
def test_safe_cell(cell: str, shown: str) -> None:
    assert safe_cell(cell) == shown


def test_jsonl_is_the_events_customer_shape_with_its_version(sqlite_engine: Engine) -> None:
    _load(sqlite_engine,
          ("crm", "1", {"name.full": "علی کریمی", "phones.phone:mobile": "+989121234567"}),
          ("crm", "2", {"name.full": "سارا احمدی", "emails.email": "sara@example.ir"}))
    buf = io.StringIO()
    assert write_jsonl(sqlite_engine, buf) == 2
    events = json.loads((data_dir("schemas") / "events.schema.json").read_text("utf-8"))
    customer = Draft202012Validator({"$defs": events["$defs"], "$ref": "#/$defs/customer"})
    with sqlite_engine.connect() as conn:
        versions = dict(conn.execute(select(masters.c.id, masters.c.version)).all())
    lines = buf.getvalue().splitlines()
    assert len(lines) == 2
    for line in lines:
        doc = json.loads(line)
        assert list(doc)[:2] == ["id", "version"] and doc["version"] == versions[doc["id"]]
        customer.validate({k: v for k, v in doc.items() if k != "version"})


def test_xref_never_alters_keys(sqlite_engine: Engine, tmp_path: Path) -> None:
    ids = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+989121234567", "-5", "@1", "0012"]
    _load(sqlite_engine, *[("crm", sid, {"name.full": f"کریمی {i}",
                                         "nationalCode": f"00123456{i:02d}"})
                           for i, sid in enumerate(ids)])
    path = tmp_path / "xref.csv"
    assert write_xref(sqlite_engine, path) == len(ids)
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["source_id"] for r in rows] == ids
    assert {r["source_system"] for r in rows} == {"crm"}
    assert not list(tmp_path.glob(".xref.csv.*"))   # the temporary file is gone


def _fail_halfway(path: Path) -> None:
    with opened(path) as f:
        f.write("<customers>")
        raise RuntimeError("the store went away")


def test_an_export_that_fails_leaves_the_previous_file(tmp_path: Path) -> None:
    path = tmp_path / "master.xml"
    path.write_text("the previous export", encoding="utf-8")
    with pytest.raises(RuntimeError):
        _fail_halfway(path)
    assert path.read_text(encoding="utf-8") == "the previous export"
    assert [p.name for p in tmp_path.iterdir()] == ["master.xml"]


def test_spreadsheet_safe_applies_to_csv_only() -> None:
    for args in (["--format", "xml"], ["--format", "jsonl"], ["--xref", "x.csv"]):
        done = CliRunner().invoke(cli, ["export", "--spreadsheet-safe", *args])
        assert done.exit_code == 2
        assert "--spreadsheet-safe applies to --format csv only" in done.output


# --- as users run it ---------------------------------------------------------------------

def _peyvand(cwd: Path, *args: str, code: int = 0) -> str:
    done = subprocess.run([sys.executable, "-m", "hub", *args], cwd=cwd, capture_output=True,
                          encoding="utf-8", timeout=300)
    assert done.returncode == code, done.stderr
    return done.stdout


@pytest.fixture(name="demo", scope="module")
def _demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """The shipped demo, run in an empty folder; its number of active customers."""
    cwd = tmp_path_factory.mktemp("demo")
    _peyvand(cwd, "run", code=3)   # 3: the demo's bad values are new quarantine entries
    engine = open_engine(f"sqlite:///{cwd}/.peyvand/master.sqlite")
    with engine.connect() as conn:
        active = conn.execute(select(func.count()).select_from(masters)
                              .where(masters.c.status == "active")).scalar_one()
    engine.dispose()
    assert active > 100
    return cwd, active


def test_demo_xml_export_validates_with_xmlschema_and_xmllint(demo: tuple[Path, int]) -> None:
    cwd, active = demo
    _peyvand(cwd, "export", "--format", "xml", "-o", "master.xml")
    path = cwd / "master.xml"
    _assert_valid(path)
    root = etree.parse(str(path), HARDENED_PARSER).getroot()
    assert len(root.findall("m:customer", NS)) == active
    # Lineage everywhere: each value names one of its customer's source records.
    for customer in root.iterfind("m:customer", NS):
        listed = {(s.get("system"), s.get("id")) for s in customer.iterfind(
            "m:sources/m:source", NS)}
        for el in customer.iter():
            if el.get("sourceSystem") is not None:
                assert (el.get("sourceSystem"), el.get("sourceId")) in listed
    # A value out of place, as a hand edit or a bad transform would make it, is refused.
    tampered = cwd / "tampered.xml"
    _write(tampered, re.sub(r'(<phone type=")mobile(")', r"\1pager\2",
                            path.read_text(encoding="utf-8"), count=1))
    _assert_invalid(tampered)


def test_demo_jsonl_and_csv_exports(demo: tuple[Path, int]) -> None:
    cwd, active = demo
    lines = _peyvand(cwd, "export", "--format", "jsonl").splitlines()
    assert len(lines) == active
    assert all(json.loads(line)["status"] == "active" for line in lines)
    exact = _csv_rows(_peyvand(cwd, "export", "--format", "csv"))
    assert len(exact) == active
    assert all(not r["phones.phone:mobile"].startswith("'") for r in exact)
    safe = _peyvand(cwd, "export", "--format", "csv", "--spreadsheet-safe")
    assert safe.startswith("\ufeff")
    phones = [r["phones.phone:mobile"] for r in _csv_rows(safe[1:]) if r["phones.phone:mobile"]]
    assert phones and all(p.startswith("'+98") for p in phones)


def test_quarantine_csv_is_safe_to_open_in_a_spreadsheet(tmp_path: Path) -> None:
    """Finding M3: a record id that is a formula reaches the operator's spreadsheet inert."""
    evil = '=HYPERLINK("http://evil.example","x")'
    (tmp_path / "in.csv").write_text(
        'id,name,mobile,email\n"=HYPERLINK(""http://evil.example"",""x"")",Name,'
        "09121000002,not-an-email\n", encoding="utf-8")
    (tmp_path / "pipelines").mkdir()
    (tmp_path / "mappings").mkdir()
    (tmp_path / "pipelines" / "people.yaml").write_text(
        "adapter: spreadsheet\noptions: {path: ../in.csv, id_column: id}\n"
        "source_system: crm\nmapping: people.yaml\n", encoding="utf-8")
    (tmp_path / "mappings" / "people.yaml").write_text(
        "fields:\n  kind: {constant: person}\n  name.full: {from: name}\n"
        "  phones.phone:mobile: {from: mobile}\n  emails.email: {from: email}\n",
        encoding="utf-8")
    (tmp_path / "config.yaml").write_text("pipelines: [people]\n", encoding="utf-8")
    _peyvand(tmp_path, "run", code=3)
    rows = list(csv.reader(io.StringIO(_peyvand(tmp_path, "quarantine", "list", "--csv"))))
    header, [entry] = rows[0], rows[1:]
    assert dict(zip(header, entry, strict=True))["source_id"] == f"'{evil}"
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in entry)
