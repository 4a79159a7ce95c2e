"""XSLT mappings and YAML xpath fields: checked when they load, sandboxed when they run,
and the real UBL samples mapped end to end into customers."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from sqlalchemy import select

from hub.errors import MappingError, MappingFailed
from hub.mapping import XsltMapping, load_mapping
from hub.mapping import xslt_mapping as xslt_module
from hub.records import RawRecord
from hub.store.tables import source_records
from hub.testing import project

ROOT = Path(__file__).resolve().parents[1]
UBL_XSLT = ROOT / "mappings" / "ubl_parties.xslt"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
PARTIES = "//cac:AccountingCustomerParty/cac:Party | //cac:BuyerCustomerParty/cac:Party"


def erp_options(folder: Path) -> str:
    """The xml_files options of the UBL parties in ``folder``, as a YAML flow mapping."""
    return (f"{{path: '{folder}/*.xml', record_xpath: '{PARTIES}', "
            f"namespaces: {{cac: '{CAC}', cbc: '{CBC}'}}, id_xpath: 'cbc:EndpointID', "
            "settle_seconds: 0}")


XSL_HEAD = ('<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform" '
            'xmlns:pv="urn:peyvand:mapping:v1">\n')


def stylesheet(body: str, top: str = "") -> str:
    return f'{XSL_HEAD}{top}\n<xsl:template match="/">\n<fields>{body}</fields>\n' \
           "</xsl:template>\n</xsl:stylesheet>\n"


def write(tmp_path: Path, text: str, name: str = "m.xslt") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load(tmp_path: Path, text: str, **kwargs: Any) -> XsltMapping:
    mapping = load_mapping(write(tmp_path, text), **kwargs)
    assert isinstance(mapping, XsltMapping)
    return mapping


def problems_of(tmp_path: Path, text: str, name: str = "m.xslt") -> str:
    with pytest.raises(MappingError) as info:
        load_mapping(write(tmp_path, text, name))
    return "\n".join(info.value.problems)


def xml(text: str, source_id: str = "r1") -> RawRecord:
    return RawRecord(source_id, etree.fromstring(text))


PARTY = (f'<cac:Party xmlns:cac="{CAC}" xmlns:cbc="{CBC}"><cac:PartyName><cbc:Name>Acme'
         "</cbc:Name></cac:PartyName><cac:Contact><cbc:ElectronicMail>a@acme.ir"
         "</cbc:ElectronicMail><cbc:ElectronicMail>b@acme.ir</cbc:ElectronicMail>"
         "</cac:Contact></cac:Party>")


@pytest.fixture(name="samples")
def _samples(shared_samples: Path) -> Path:
    return shared_samples / "erp"


# -- the UBL samples, end to end -----------------------------------------------------------


@pytest.mark.samples
def test_the_ubl_samples_become_customers(tmp_path: Path, samples: Path) -> None:
    hub = project(tmp_path, {"erp": ("xml_files", erp_options(samples),
                                     "ubl_parties.xslt")},
                  {"ubl_parties.xslt": UBL_XSLT.read_text(encoding="utf-8")})
    [stats] = hub.run()
    assert (stats.read, stats.created, stats.rejected) == (3, 3, 0)
    with hub.engine.connect() as conn:
        stored = {r.source_id: r for r in conn.execute(select(source_records))}
    # Ids from cbc:EndpointID; the UBL 2.0 order's party has none: file#n.
    assert set(stored) == {"1234567987654", "7300072311115",
                           "UBL-Order-2.0-Example-International.xml#1"}

    def values(source_id: str) -> dict[str, list[str]]:
        return {path: [v for v, _ in pairs]
                for path, pairs in stored[source_id].canonical.items()}

    invoice = values("1234567987654")                          # UBL 2.1 invoice
    assert invoice["organization.name"] == ["Buyercompany ltd"]
    assert invoice["kind"] == ["organization"]
    assert (invoice["name.given"], invoice["name.family"]) == (["John Doe"], ["X"])
    assert invoice["emails.email"] == ["john@buyercompany.eu"]
    assert invoice["addresses.address.street"] == ["Anystreet 8"]
    assert invoice["addresses.address.city"] == ["Anytown"]
    assert invoice["addresses.address.postalCode"] == ["101"]
    assert invoice["addresses.address.country"] == ["BE"]
    assert invoice["identifiers.identifier:tax-id"] == ["BE54321"]
    order21 = values("7300072311115")                          # UBL 2.1 order
    assert order21["organization.name"] == ["Johnssons byggvaror"]
    assert order21["emails.email"] == ["pelle@johnsson.se"]
    assert order21["addresses.address.city"] == ["Stockholm"]
    assert order21["identifiers.identifier:tax-id"] == ["SE1234567801"]
    order20 = values("UBL-Order-2.0-Example-International.xml#1")   # UBL 2.0 order
    assert order20["organization.name"] == ["IYT Corporation"]
    assert (order20["name.honorific"], order20["name.full"]) == (["Mr"], ["Fred Churchill"])
    assert order20["emails.email"] == ["fred@iytcorporation.gov.uk"]
    assert order20["addresses.address.postalCode"] == ["ZZ99 1ZZ"]
    assert order20["addresses.address.country"] == ["GB"]
    # The master holds them with their sources; the stored raw record is the party alone.
    view = hub.customer(stored["7300072311115"].master_id)
    assert view is not None
    golden = {(v.path, v.value) for v in view.values}
    assert ("organization.name", "Johnssons byggvaror") in golden
    assert ("identifiers.identifier:tax-id", "SE1234567801") in golden
    assert view.sources == ["erp/7300072311115"]
    raw = RawRecord.from_storable("x", stored["7300072311115"].raw)
    assert isinstance(raw.data, etree._Element) and etree.QName(raw.data).localname == "Party"
    # Nothing is read twice.
    [again] = hub.run()
    assert (again.read, again.events) == (0, 0)


def test_unreadable_files_and_records_the_stylesheet_refuses_wait_in_quarantine(
        tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    exports.mkdir()
    ns = f'xmlns:cac="{CAC}" xmlns:cbc="{CBC}"'
    (exports / "good.xml").write_text(
        f"<Invoice {ns}><cac:AccountingCustomerParty><cac:Party><cac:PartyName><cbc:Name>Acme"
        "</cbc:Name></cac:PartyName><cac:Contact><cbc:ElectronicMail>a@acme.ir"
        "</cbc:ElectronicMail></cac:Contact></cac:Party></cac:AccountingCustomerParty>"
        "</Invoice>", encoding="utf-8")
    (exports / "bad.xml").write_text("<Invoice>\n<cac:Party>\n</Invoice>", encoding="utf-8")
    (exports / "odd.xml").write_text(
        f"<Invoice {ns}><cac:AccountingCustomerParty><cac:Contact/>"
        "</cac:AccountingCustomerParty></Invoice>", encoding="utf-8")
    options = (f"{{path: '../exports/*.xml', record_xpath: '//cac:AccountingCustomerParty/*', "
               f"namespaces: {{cac: '{CAC}'}}, settle_seconds: 0}}")
    hub = project(tmp_path, {"erp": ("xml_files", options, "ubl_parties.xslt")},
                  {"ubl_parties.xslt": UBL_XSLT.read_text(encoding="utf-8")})
    [stats] = hub.run()
    assert (stats.read, stats.created, stats.rejected) == (3, 1, 2)
    entries = {e.source_id: e for e in hub.quarantine()}
    assert entries["bad.xml"].stage == "read"
    assert "bad.xml was not read: it is not well-formed XML (line 2, column" in \
        entries["bad.xml"].reason
    odd = entries["odd.xml#1"]
    assert odd.stage == "map" and odd.location == "odd.xml record 1 (line 1)"
    assert "maps a UBL cac:Party; this record is" in odd.reason
    assert "cac:Contact: check the pipeline's record_xpath" in " ".join(odd.reason.split())


def test_a_new_version_of_an_export_changes_only_what_changed(tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    exports.mkdir()

    def export(acme_mail: str, age: float) -> None:
        parties = "".join(
            f"<cac:AccountingCustomerParty><cac:Party><cac:PartyName><cbc:Name>{name}"
            f"</cbc:Name></cac:PartyName><cac:Contact><cbc:ElectronicMail>{mail}"
            "</cbc:ElectronicMail></cac:Contact></cac:Party></cac:AccountingCustomerParty>"
            for name, mail in (("Acme", acme_mail), ("Beta", "info@beta.ir")))
        path = exports / "customers.xml"
        path.write_text(f'<Invoice xmlns:cac="{CAC}" xmlns:cbc="{CBC}">{parties}</Invoice>',
                        encoding="utf-8")
        stamp = time.time() - age
        os.utime(path, (stamp, stamp))

    export("info@acme.ir", age=3600)
    options = (f"{{path: '../exports/*.xml', record_xpath: '{PARTIES}', "
               f"namespaces: {{cac: '{CAC}'}}}}")
    hub = project(tmp_path, {"erp": ("xml_files", options, "ubl_parties.xslt")},
                  {"ubl_parties.xslt": UBL_XSLT.read_text(encoding="utf-8")})
    [first] = hub.run()
    assert (first.read, first.created) == (2, 2)
    seen = hub.events()[-1].seq
    export("sales@acme.ir", age=60)   # the ERP writes the file again, one party changed
    [second] = hub.run()
    assert (second.read, second.changed, second.unchanged, second.created) == (2, 1, 1, 0)
    [event] = hub.events(after=seen)
    assert event.type == "customer.updated"
    assert event.subject == hub.search("Acme")[0].id
    [third] = hub.run()
    assert third.read == 0


# -- the loader's checks -------------------------------------------------------------------


def test_the_shipped_stylesheet_loads_and_declares_its_target() -> None:
    mapping = load_mapping(UBL_XSLT)
    assert isinstance(mapping, XsltMapping)
    assert (mapping.target, mapping.rules, mapping.strict) == ("customer", (), frozenset())
    assert mapping.model.root == "customer"


def test_every_problem_is_listed_at_once_with_its_line(tmp_path: Path) -> None:
    text = stylesheet(
        '\n<field path="name.ful">x</field>'
        '\n<field path="phones.phone:pager">x</field>'
        '\n<field path="{concat(\'name.\', \'full\')}">computed: checked per record</field>',
        top='<pv:taget>customer</pv:taget>\n<pv:options path="birthDate" calender="jalali"/>')
    problems = problems_of(tmp_path, text)
    assert "line 2: unknown declaration pv:taget. Did you mean 'target'?" in problems
    assert "line 3: pv:options: unknown option 'calender'. Did you mean 'calendar'?" in problems
    assert ("line 6: field path 'name.ful': 'name.ful' is not a field of customer.xsd. "
            "Did you mean 'name.full'?") in problems
    assert "line 7: field path 'phones.phone:pager': 'pager' is not a type of phones.phone " \
           "(allowed: mobile, landline, fax, other)" in problems
    assert "computed" not in problems
    assert len(problems.splitlines()) == 4


def test_the_target_is_declared_and_checked(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, stylesheet("", top="<pv:target>customers</pv:target>"))
    assert "pv:target 'customers' is not a target; use one of customer, interaction. " \
           "Did you mean 'customer'?" in problems
    problems = problems_of(tmp_path, stylesheet('<field path="emails.email">x</field>',
                                                top="<pv:target>interaction</pv:target>"))
    assert "'emails.email' is not a field of interaction.xsd" in problems
    mapping = load(tmp_path, stylesheet('<field path="contact.email">a@x.ir</field>',
                                        top="<pv:target>interaction</pv:target>"))
    assert mapping.target == "interaction"
    assert mapping.apply(xml("<r/>")) == {"contact.email": ["a@x.ir"]}


def test_what_is_no_stylesheet_says_so(tmp_path: Path) -> None:
    assert "not well-formed XML: line 2, column" in problems_of(tmp_path, "<xsl:stylesheet\n<")
    assert "the root element is <fields>; an XSLT mapping is an <xsl:stylesheet" in \
        problems_of(tmp_path, "<fields/>")
    bad = problems_of(tmp_path, stylesheet('\n<field path="name.full">'
                                           '<xsl:value-of select="a["/></field>'))
    assert "line 5: the stylesheet does not compile: xsl:value-of : could not compile " \
           "select expression 'a['" in bad
    assert "unknown mapping format '.xml'" in problems_of(tmp_path, "<x/>", "m.xml")


def test_options_and_custom_attributes(tmp_path: Path) -> None:
    text = stylesheet('<field path="birthDate">1402/05/17</field>'
                      '<field path="attributes.attribute:vip">بله</field>',
                      top='<pv:options path="birthDate" calendar="jalali" strict="true"/>')
    mapping = load(tmp_path, text, attributes={"vip": "boolean"})
    assert mapping.strict == {"birthDate"}
    assert mapping.options["birthDate"] == {"calendar": "jalali"}
    assert mapping.options["attributes.attribute:vip"] == {"attribute_type": "boolean"}
    problems = problems_of(tmp_path, stylesheet(
        "", top='<pv:options path="phones.phone" calendar="jalali" strict="yes"/>'))
    assert "calendar applies to dates only" in problems
    assert "strict must be true or false, got 'yes'" in problems
    assert "'vip' is not an attribute declared in config.yaml" in problems_of(tmp_path, text)


def test_the_fingerprint_follows_the_file(tmp_path: Path) -> None:
    first = load(tmp_path, stylesheet('<field path="name.full">a</field>')).fingerprint
    second = load(tmp_path, stylesheet('<field path="name.full">b</field>')).fingerprint
    assert first != second


# -- applying: a bad record is quarantined, never a crash ----------------------------------


def test_apply_collects_raw_values(tmp_path: Path) -> None:
    mapping = load(tmp_path, stylesheet(
        '<field path="organization.name"><xsl:value-of select="//*[local-name()=\'Name\']"/>'
        '</field><field path="name.full">  </field>'
        '<xsl:for-each select="//*[local-name()=\'ElectronicMail\']">'
        '<field path="emails.email"> <xsl:value-of select="."/> </field></xsl:for-each>'
        '<!-- a comment is not a field -->'))
    assert mapping.apply(xml(PARTY)) == {"organization.name": ["Acme"],
                                        "emails.email": ["a@acme.ir", "b@acme.ir"]}


@pytest.mark.parametrize(("body", "reason"), [
    ('<field path="{concat(\'name.\', \'ful\')}">x</field>',
     "gave field path 'name.ful': 'name.ful' is not a field of customer.xsd. "
     "Did you mean 'name.full'?"),
    ('<xsl:message terminate="yes">no party here</xsl:message>',
     "the stylesheet m.xslt failed on this record: no party here"),
    ('<field path="name.full">a</field><field path="name.full">b</field>',
     "name.full holds one value and the stylesheet gave 2: 'a', 'b'; select one"),
    ("<name>x</name>", "gave <name> where a <field path=\"...\"> belongs"),
])
def test_a_record_the_stylesheet_cannot_map_fails_with_the_reason(
        tmp_path: Path, body: str, reason: str) -> None:
    mapping = load(tmp_path, stylesheet(body))
    with pytest.raises(MappingFailed) as info:
        mapping.apply(xml("<r/>", "inv.xml#3"))
    assert reason in info.value.reason
    assert info.value.record == "inv.xml#3"


def test_runaway_recursion_stops_with_the_reason(tmp_path: Path) -> None:
    mapping = load(tmp_path, stylesheet(
        '<xsl:call-template name="loop"/>',
        top='<xsl:template name="loop"><xsl:call-template name="loop"/></xsl:template>'))
    with pytest.raises(MappingFailed, match="infinite template recursion"):
        mapping.apply(xml("<r/>"))


def test_output_that_is_no_fields_and_rows_of_columns_are_refused(tmp_path: Path) -> None:
    text = XSL_HEAD + '<xsl:template match="/"><out/></xsl:template></xsl:stylesheet>'
    with pytest.raises(MappingFailed, match="gave no <fields> element"):
        load(tmp_path, text).apply(xml("<r/>"))
    with pytest.raises(MappingFailed, match="this record is a row of columns"):
        load(tmp_path, stylesheet("")).apply(RawRecord("r1", {"name": "Ali"}))


# -- hostile stylesheets -------------------------------------------------------------------


def test_document_is_refused_at_load_and_denied_at_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        listener: tuple[str, list[bytes]]) -> None:
    url, hits = listener
    secret = tmp_path / "secret.xml"
    secret.write_text("<s>TOP-SECRET</s>", encoding="utf-8")
    steal = stylesheet(f'<field path="name.full"><xsl:value-of select="document(\'file://'
                       f'{secret}\')"/></field><field path="name.given"><xsl:value-of '
                       f'select="document(\'/etc/passwd\')"/></field>')
    problems = problems_of(tmp_path, steal)
    assert "document() is not allowed: a mapping reads only its record" in problems
    # Hidden from that check (EXSLT's dyn:evaluate of a computed string), the sandbox
    # still denies the read: the record is quarantined with the reason.
    hidden = stylesheet(
        '<field path="name.full"><xsl:value-of select="dyn:evaluate(concat(\'docu\', '
        f'\'ment(&quot;{secret}&quot;)\'))"/></field>').replace(
        'version="1.0"', 'version="1.0" xmlns:dyn="http://exslt.org/dynamic"')
    with pytest.raises(MappingFailed, match=r"read rights for .*secret\.xml denied") as info:
        load(tmp_path, hidden).apply(xml("<r/>"))
    assert "TOP-SECRET" not in str(info.value)
    # Were the check missed, the sandbox still denies the read: a record problem.
    monkeypatch.setattr(xslt_module, "_DOCUMENT_CALL", re.compile(r"(?!)"))
    for target in (f"file://{secret}", "/etc/passwd", f"{url}/x.xml"):
        mapping = load(tmp_path, stylesheet(
            f'<field path="name.full"><xsl:value-of select="document(\'{target}\')"/></field>'))
        with pytest.raises(MappingFailed, match=r"read rights for .* denied") as info:
            mapping.apply(xml("<r/>"))
        assert "TOP-SECRET" not in str(info.value) and "root:" not in str(info.value)
    assert hits == []


def test_includes_imports_and_extension_elements_are_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        listener: tuple[str, list[bytes]]) -> None:
    url, hits = listener
    (tmp_path / "local.xsl").write_text(XSL_HEAD + "</xsl:stylesheet>", encoding="utf-8")
    include = stylesheet('<field path="name.ful">x</field>',
                         top=f'<xsl:include href="{url}/evil.xsl"/>'
                             f'<xsl:import href="file://{tmp_path}/local.xsl"/>')
    problems = problems_of(tmp_path, include)
    assert "line 2: xsl:include is not allowed: a mapping is one self-contained file" in problems
    assert "line 2: xsl:import is not allowed" in problems
    assert "Did you mean 'name.full'?" in problems   # listed with the rest, not compiled
    writer = stylesheet(f'<exsl:document href="{tmp_path}/out.txt" method="text">hi'
                        "</exsl:document>").replace(
        'version="1.0"', 'version="1.0" xmlns:exsl="http://exslt.org/common" '
                         'extension-element-prefixes="exsl"')
    assert "extension elements are not allowed" in problems_of(tmp_path, writer)
    # Were the checks missed, the sandbox still denies every file and network access.
    monkeypatch.setattr(xslt_module, "_sandbox_problems", lambda tree: [])
    with pytest.raises(MappingError, match="does not compile"):
        load_mapping(write(tmp_path, stylesheet("", top=f'<xsl:include href="{url}/e.xsl"/>')))
    with pytest.raises(MappingFailed, match=r"write rights for .* denied"):
        load(tmp_path, writer).apply(xml("<r/>"))
    assert not (tmp_path / "out.txt").exists()
    assert hits == []


def test_a_stylesheet_declaring_entities_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET", encoding="utf-8")
    text = (f'<!DOCTYPE xsl:stylesheet [<!ENTITY x SYSTEM "file://{secret}">]>\n'
            + stylesheet('<field path="name.full">&x;</field>'))
    problems = problems_of(tmp_path, text)
    assert "declares a DTD with entities or elements" in problems
    assert "TOP-SECRET" not in problems


# -- YAML xpath fields ---------------------------------------------------------------------


def yaml_mapping(tmp_path: Path, fields: str, namespaces: str = "") -> Any:
    head = f"namespaces: {{cac: '{CAC}', cbc: '{CBC}'}}\n" if namespaces == "" else namespaces
    return load_mapping(write(tmp_path, f"{head}fields:\n{fields}", "m.yaml"))


def test_yaml_xpath_fields_read_xml_records(tmp_path: Path) -> None:
    mapping = yaml_mapping(tmp_path, """
  kind:              {constant: organization}
  organization.name: {xpath: "cac:PartyName/cbc:Name"}
  emails.email:      {xpath: "cac:Contact/cbc:ElectronicMail"}
  name.full:         {xpath: "concat(cac:Contact/cbc:Name, '')"}
  lifecycleStage:    {xpath: "string(cac:PartyName/cbc:Name)", lookup: {Acme: customer}}
""")
    assert mapping.apply(xml(PARTY)) == {
        "kind": ["organization"], "organization.name": ["Acme"],
        "emails.email": ["a@acme.ir", "b@acme.ir"], "lifecycleStage": ["customer"]}
    one = yaml_mapping(tmp_path, '  name.full: {xpath: "cac:Contact/cbc:ElectronicMail"}\n')
    with pytest.raises(MappingFailed, match=r"name\.full holds one value and xpath "
                                            r"'cac:Contact/cbc:ElectronicMail' found 2"):
        one.apply(xml(PARTY))
    with pytest.raises(MappingFailed, match="this mapping reads XML records"):
        one.apply(RawRecord("r1", {"name": "Ali"}))


def test_yaml_xpath_fields_are_checked_when_the_mapping_loads(tmp_path: Path) -> None:
    with pytest.raises(MappingError) as info:
        yaml_mapping(tmp_path, """
  organization.name: {xpath: "ubl:PartyName"}
  name.full:         {xpath: "cac:Contact["}
  emails.email:      {from: Email}
""", namespaces="namespaces: {cac: 7}\n")
    problems = "\n".join(info.value.problems)
    assert "namespaces: must be a table of prefix: namespace URI" in problems
    assert "fields.organization.name: 'ubl:PartyName' is not a usable XPath expression " \
           "(Undefined namespace prefix); declare every prefix it uses under namespaces" \
           in problems
    assert "fields.name.full: 'cac:Contact[' is not a usable XPath" in problems
    assert "a mapping reads columns (from, join) or XML (xpath), not both" in problems
