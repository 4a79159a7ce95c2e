"""The canonical model: leaf fields read from the XSD, XML built and validated by lxml."""

from __future__ import annotations

import pytest
from lxml import etree

from hub.errors import SchemaViolation
from hub.records import CanonicalRecord, Value
from hub.schema_model import load_model
from hub.validation import to_xml, validate


def _record(**fields: str) -> CanonicalRecord:
    values = {k.replace("__", ".").replace("_Q_", ":"): [Value(v, v)] for k, v in fields.items()}
    return CanonicalRecord("crm", "42", "h", values)


def test_fields_come_from_the_xsd() -> None:
    fields = load_model().fields
    assert fields["phones.phone"].qualifiers == ("mobile", "landline", "fax", "other")
    assert fields["consents.consent"].qualifier_attr == "channel"
    assert fields["emails.email"].repeated and not fields["birthDate"].repeated
    assert fields["nationalCode"].accepts("0076229645")
    assert not fields["nationalCode"].accepts("76229645")
    # Document order, so XML is built in the sequence the schema demands.
    assert fields["name.given"].order < fields["birthDate"].order < fields["phones.phone"].order


def test_valid_record_becomes_ordered_xml_with_raw_values() -> None:
    record = CanonicalRecord("crm", "42", "h", {
        "phones.phone:mobile": [Value("+989121234567", "۰۹۱۲۱۲۳۴۵۶۷")],
        "kind": [Value("person", "person")],
        "name.family": [Value("کریمی", "كريمي")],
        "addresses.address.postalCode": [Value("1234567890", "12345-67890")],
        "addresses.address.city": [Value("تهران", "تهران")],
    })
    root = validate(record)
    ns = {"c": "urn:peyvand:customer:v1"}
    assert [etree.QName(e).localname for e in root] == ["source", "kind", "name", "phones",
                                                       "addresses"]
    phone = root.find("c:phones/c:phone", ns)
    assert phone.get("type") == "mobile" and phone.get("raw") == "۰۹۱۲۱۲۳۴۵۶۷"
    assert root.find("c:name/c:family", ns).get("raw") == "كريمي"
    assert root.find("c:addresses/c:address/c:city", ns).get("raw") is None  # unchanged
    assert root.find("c:source", ns).attrib == {"system": "crm", "id": "42", "hash": "h"}


@pytest.mark.parametrize(("target", "value", "field"), [
    ("addresses.address.postalCode", "12#45", "addresses.address.postalCode"),
    ("phones.phone:mobile", "09121234567", "phones.phone"),
    ("lifecycleStage", "vip", "lifecycleStage"),
    ("birthDate", "1402-05-17x", "birthDate"),
])
def test_violation_names_the_field(target: str, value: str, field: str) -> None:
    record = CanonicalRecord("crm", "42", "h", {"kind": [Value("person", "person")],
                                                target: [Value(value, value)]})
    with pytest.raises(SchemaViolation) as info:
        validate(record)
    assert info.value.field == field
    assert info.value.source == "crm" and info.value.record == "42"
    assert repr(value) in info.value.reason
    assert "{urn:" not in info.value.reason


def test_missing_kind_is_a_violation() -> None:
    with pytest.raises(SchemaViolation, match="kind"):
        validate(CanonicalRecord("crm", "1", "h", {"name.full": [Value("x", "x")]}))


def test_to_xml_is_deterministic() -> None:
    a = to_xml(_record(kind="person", name__full="علی", emails__email="a@x.ir"))
    b = to_xml(_record(emails__email="a@x.ir", name__full="علی", kind="person"))
    assert etree.tostring(a) == etree.tostring(b)
