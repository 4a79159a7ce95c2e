"""The xml_files adapter: a drop folder of XML exports, each file read once, hostile XML
refused harmlessly, under the adapter contract."""

from __future__ import annotations

import os
import pickle
import time
from pathlib import Path
from typing import Any, ClassVar

import pytest
from lxml import etree

from adapters import get_adapter_class
from adapters import xml_files as module
from adapters.xml_files import XmlFilesAdapter
from hub.adapter import SourceContext
from hub.errors import ConfigError, FatalSourceError
from hub.records import Checkpoint, RawRecord
from hub.testing.conformance import AdapterConformance

NS = {"cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
      "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"}
PARTIES = "//cac:AccountingCustomerParty/cac:Party | //cac:BuyerCustomerParty/cac:Party"
HOUR = 3600


def ubl(*parties: tuple[str, str | None], root: str = "Invoice") -> str:
    """A UBL-shaped document holding customer parties: (name, endpoint id or None)."""
    body = "".join(
        f"<cac:AccountingCustomerParty><cac:Party>"
        f"{f'<cbc:EndpointID>{eid}</cbc:EndpointID>' if eid else ''}"
        f"<cac:PartyName><cbc:Name>{name}</cbc:Name></cac:PartyName>"
        f"</cac:Party></cac:AccountingCustomerParty>" for name, eid in parties)
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<{root} xmlns="urn:x" '
            f'xmlns:cac="{NS["cac"]}" xmlns:cbc="{NS["cbc"]}">\n{body}\n</{root}>\n')


def drop(folder: Path, name: str, text: str | bytes, age: float = HOUR) -> Path:
    """Write a file into the drop folder, last modified ``age`` seconds ago."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    stamp = time.time() - age
    os.utime(path, (stamp, stamp))
    return path


def adapter(base: Path, **options: Any) -> XmlFilesAdapter:
    return XmlFilesAdapter.from_options({"path": "exports/*.xml", **options}, where="p.yaml",
                                        context=SourceContext(base_dir=base))


def read(base: Path, checkpoint: Checkpoint | None = None, **options: Any) -> list[RawRecord]:
    return list(adapter(base, **options).read(checkpoint))


def names(records: list[RawRecord]) -> list[str]:
    return [r.data.findtext(".//{*}Name") or "" for r in records
            if isinstance(r.data, etree._Element)]


class TestXmlFilesConformance(AdapterConformance):
    """The adapter contract on three UBL-shaped files, one holding two parties."""

    adapter_class = XmlFilesAdapter
    bad_options: ClassVar = {"path": 3, "record_xpath": "//cac:Party[", "settle_seconds": -1,
                             "colour": "red"}

    def make_source(self, tmp_path: Path) -> dict[str, Any]:
        exports = tmp_path / "exports"
        drop(exports, "a.xml", ubl(("Acme", "111")), age=3 * HOUR)
        drop(exports, "b.xml", ubl(("Beta", None), ("Gamma", "333")), age=2 * HOUR)
        drop(exports, "c.xml", ubl(("Delta", None)), age=HOUR)
        return {"path": "exports/*.xml", "record_xpath": PARTIES, "namespaces": NS,
                "id_xpath": "cbc:EndpointID"}


# -- records and ids ------------------------------------------------------------------------


def test_records_are_standalone_copies_with_ids_and_locations(tmp_path: Path) -> None:
    drop(tmp_path / "exports", "inv-1.xml", ubl(("Acme", "111"), ("Beta", None)))
    records = read(tmp_path, record_xpath=PARTIES, namespaces=NS, id_xpath="cbc:EndpointID")
    assert [r.source_id for r in records] == ["111", "inv-1.xml#2"]   # no id: file#n
    assert names(records) == ["Acme", "Beta"]
    assert records[0].location == "inv-1.xml record 1 (line 3)"
    party = records[0].data
    assert isinstance(party, etree._Element)
    assert party.getparent() is None and party.tail is None
    # What is stored for a replay is the party alone, and it reads back the same.
    back = RawRecord.from_storable("111", records[0].storable())
    assert back.content_hash() == records[0].content_hash()


def test_without_record_xpath_each_document_is_one_record(tmp_path: Path) -> None:
    drop(tmp_path / "exports", "one.xml", "<customer><name>Ali</name></customer>")
    drop(tmp_path / "exports", "sub/two.xml", "<customer><name>Sara</name></customer>")
    [record] = read(tmp_path)
    assert (record.source_id, record.data.findtext("name")) == ("one.xml#1", "Ali")
    deep = read(tmp_path, path="exports/**/*.xml")
    assert sorted(r.source_id for r in deep) == ["one.xml#1", "sub/two.xml#1"]


def test_a_misconfigured_source_says_what_to_fix(tmp_path: Path) -> None:
    with pytest.raises(FatalSourceError, match=r"no such folder; check options\.path"):
        read(tmp_path)
    drop(tmp_path / "exports", "a.xml", ubl(("Acme", None)))
    with pytest.raises(FatalSourceError, match="selects text or numbers"):
        read(tmp_path, record_xpath="string(//cbc:Name)", namespaces=NS)
    with pytest.raises(ConfigError) as info:
        adapter(tmp_path, record_xpath="//cac:Party", id_xpath="ubl:ID", max_file_mb=0)
    problems = "\n".join(info.value.problems)
    assert "options.record_xpath: '//cac:Party' is not a usable XPath" in problems
    assert "options.id_xpath" in problems and "options.max_file_mb" in problems
    assert get_adapter_class("xml_files") is XmlFilesAdapter


# -- each file once ------------------------------------------------------------------------


@pytest.fixture(name="opened")
def _opened(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the files the adapter opens."""
    seen: list[str] = []
    real = module.read_bytes

    def spy(path: Path, limit: int) -> bytes:
        seen.append(path.name)
        return real(path, limit)

    monkeypatch.setattr(module, "read_bytes", spy)
    return seen


def test_a_processed_file_is_not_read_again(tmp_path: Path, opened: list[str]) -> None:
    exports = tmp_path / "exports"
    drop(exports, "a.xml", "<c><name>A</name></c>", age=2 * HOUR)
    drop(exports, "b.xml", "<c><name>B</name></c>")
    first = read(tmp_path)
    assert [r.source_id for r in first] == ["a.xml#1", "b.xml#1"]   # oldest first
    opened.clear()
    assert read(tmp_path, first[-1].checkpoint) == []
    assert opened == []   # same size and mtime as when done: not even opened

    # Touched, or copied back under another name: opened to hash it, not read again.
    drop(exports, "a.xml", "<c><name>A</name></c>", age=60)
    drop(exports, "copy-of-b.xml", "<c><name>B</name></c>")
    assert read(tmp_path, first[-1].checkpoint) == []
    assert sorted(opened) == ["a.xml", "copy-of-b.xml"]


def test_a_new_version_of_a_file_replaces_its_records(tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    drop(exports, "customers.xml", ubl(("Acme", None), ("Beta", None)), age=2 * HOUR)
    first = read(tmp_path, record_xpath=PARTIES, namespaces=NS)
    drop(exports, "customers.xml", ubl(("Acme Ltd", None), ("Beta", None)))
    again = read(tmp_path, first[-1].checkpoint, record_xpath=PARTIES, namespaces=NS)
    # Read whole again under the same ids: the engine sees #1 changed, #2 unchanged.
    assert [r.source_id for r in again] == ["customers.xml#1", "customers.xml#2"]
    assert names(again) == ["Acme Ltd", "Beta"]
    assert again[1].content_hash() == first[1].content_hash()


def test_a_run_stopped_mid_file_resumes_after_the_last_record_committed(tmp_path: Path) -> None:
    drop(tmp_path / "exports", "a.xml", ubl(("A1", None), ("A2", None), ("A3", None)))
    records = read(tmp_path, record_xpath=PARTIES, namespaces=NS)
    rest = read(tmp_path, records[0].checkpoint, record_xpath=PARTIES, namespaces=NS)
    assert names(rest) == ["A2", "A3"]


def test_the_checkpoint_is_a_ledger_written_when_read(tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    for n in range(3):
        drop(exports, f"{n}.xml", f"<c><name>{n}</name></c>", age=HOUR - n)
    records = read(tmp_path)
    last = records[-1].checkpoint
    assert last is not None
    assert '"done":{"0.xml":[' in last.value and '"2.xml":[' in last.value
    plain = Checkpoint(last.value)   # as the store gives it back
    assert plain == last and hash(plain) == hash(last)
    assert pickle.loads(pickle.dumps(last)) == plain
    # A file gone from the folder leaves the ledger.
    (exports / "0.xml").unlink()
    drop(exports, "3.xml", "<c><name>3</name></c>")
    [new] = read(tmp_path, plain)
    assert new.checkpoint is not None and '"0.xml"' not in new.checkpoint.value
    with pytest.raises(FatalSourceError, match="reset the pipeline's checkpoint"):
        read(tmp_path, Checkpoint("abc:12"))


# -- files still being written -------------------------------------------------------------


def test_a_file_still_being_written_waits_until_it_settles(tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    path = drop(exports, "fresh.xml", "<c><name>F</name></c>", age=1)
    assert read(tmp_path, settle_seconds=30) == []
    stamp = time.time() - 31
    os.utime(path, (stamp, stamp))
    assert [r.source_id for r in read(tmp_path, settle_seconds=30)] == ["fresh.xml#1"]


@pytest.mark.parametrize("name", ["inv.xml.part", "inv.xml.tmp", "~$inv.xml", ".inv.xml",
                                  "inv.xml.crdownload", ".staging/inv.xml"])
def test_temporary_names_are_never_read(tmp_path: Path, name: str) -> None:
    drop(tmp_path / "exports", name, "<c><name>T</name></c>")
    assert read(tmp_path, path="exports/**/*") == []
    (tmp_path / "exports" / name).rename(tmp_path / "exports" / "inv.xml")
    assert [r.source_id for r in read(tmp_path, path="exports/**/*")] == ["inv.xml#1"]


# -- files that cannot be read -------------------------------------------------------------


def test_a_malformed_file_is_one_record_with_line_and_column(tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    drop(exports, "bad.xml", "<Invoice>\n  <Party>\n</Invoice>\n", age=2 * HOUR)
    drop(exports, "good.xml", ubl(("Acme", None)))
    bad, good = read(tmp_path, record_xpath=PARTIES, namespaces=NS)
    assert bad.source_id == "bad.xml" and bad.location == "bad.xml"
    assert bad.problem is not None
    assert bad.problem.startswith("bad.xml was not read: it is not well-formed XML (line 3, "
                                  "column 11: Opening and ending tag mismatch: Party line 2 and "
                                  "Invoice)")
    assert isinstance(bad.data, etree._Element) and bad.data.get("file") == "bad.xml"
    assert names([good]) == ["Acme"] and good.problem is None   # the next file goes on
    # The problem file is done: only a new version of it is read again.
    assert read(tmp_path, good.checkpoint, record_xpath=PARTIES, namespaces=NS) == []


def test_a_file_over_the_size_limit_is_refused_unread(tmp_path: Path,
                                                     opened: list[str]) -> None:
    drop(tmp_path / "exports", "huge.xml", b"<c>" + b"x" * (1024 * 1024) + b"</c>")
    [record] = read(tmp_path, max_file_mb=1)
    assert record.problem == ("huge.xml was not read: 1.0 MB, over options.max_file_mb "
                              "(1 MB); split the export or raise the limit.")
    assert opened == []
    assert read(tmp_path, record.checkpoint, max_file_mb=1) == []


# -- hostile XML ---------------------------------------------------------------------------


def test_hostile_documents_are_quarantined_and_nothing_is_fetched(
        tmp_path: Path, listener: tuple[str, list[Any]]) -> None:
    url, hits = listener
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET", encoding="utf-8")
    laughs = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    hostile = {
        "xxe-file.xml": f'<!DOCTYPE c [<!ENTITY x SYSTEM "file://{secret}">]><c>&x;</c>',
        "xxe-http.xml": f'<!DOCTYPE c [<!ENTITY x SYSTEM "{url}/x">]><c>&x;</c>',
        "xxe-param.xml": f'<!DOCTYPE c [<!ENTITY % p SYSTEM "{url}/p"> %p;]><c/>',
        "laughs.xml": f'<!DOCTYPE c [<!ENTITY l0 "lol">{laughs}]><c>&l9;</c>',
        "dtd.xml": "<!DOCTYPE c [<!ELEMENT c (#PCDATA)>]><c>x</c>",
    }
    for age, (name, text) in enumerate(hostile.items()):
        drop(tmp_path / "exports", name, text, age=HOUR + age)
    records = read(tmp_path)
    assert len(records) == len(hostile)
    for record in records:
        assert record.problem is not None
        # libxml2 stops a billion laughs itself (entity amplification) before it is done.
        assert ("declares a DTD with entities or elements" in record.problem
                or "entity amplification factor exceeded" in record.problem), record.problem
        assert "TOP-SECRET" not in etree.tostring(record.data, encoding="unicode")
    assert hits == []


def test_a_doctype_naming_an_external_dtd_is_read_without_fetching_it(
        tmp_path: Path, listener: tuple[str, list[Any]]) -> None:
    url, hits = listener
    drop(tmp_path / "exports", "cxml.xml",
         f'<!DOCTYPE cXML SYSTEM "{url}/cXML.dtd"><cXML><name>Acme</name></cXML>')
    [record] = read(tmp_path)
    assert record.problem is None and record.data.findtext("name") == "Acme"
    assert hits == []
