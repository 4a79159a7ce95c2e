"""Canonical record -> XML (lxml) -> XSD validation; failures name the field path."""

from __future__ import annotations

import re

from lxml import etree

from hub.errors import SchemaViolation
from hub.records import CanonicalRecord
from hub.schema_model import Model, load_model

# Characters XML 1.0 cannot carry at all.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def to_xml(record: CanonicalRecord, model: Model | None = None) -> etree._Element:
    """Build the record's XML element, in the schema's sequence order."""
    model = model or load_model()
    ns = model.namespace
    root = etree.Element(f"{{{ns}}}{model.root}", nsmap={None: ns})
    # A source id is whatever the source gave (a control character included): the XML
    # carries a readable copy; the stored record keeps the id as it is.
    etree.SubElement(root, f"{{{ns}}}source", system=record.source_system,
                     id=_NOT_XML.sub("\ufffd", record.source_id) or "\ufffd",
                     hash=record.content_hash)
    order = {path: spec.order for path, spec in model.fields.items()}
    for target in sorted(record.fields, key=lambda t: order[t.partition(":")[0]]):
        path, _, qualifier = target.partition(":")
        *containers, leaf = path.split(".")
        parent = root
        for name in containers:
            found = parent.find(f"{{{ns}}}{name}")
            parent = found if found is not None else etree.SubElement(parent, f"{{{ns}}}{name}")
        attrs = model.fields[path].attributes(qualifier)   # sms/marketing: channel, purpose
        for value in record.fields[target]:
            el = etree.SubElement(parent, f"{{{ns}}}{leaf}")
            try:
                el.text = value.value
                if value.raw != value.value:
                    # @raw only informs; the stored record keeps the raw text as it was.
                    el.set("raw", _NOT_XML.sub("\ufffd", value.raw))
            except ValueError as exc:   # a character XML cannot hold (a control, U+FFFF)
                raise SchemaViolation(f"{value.raw!r} holds a character XML cannot carry",
                                      field=target, source=record.source_system,
                                      record=record.source_id) from exc
            for name, text in attrs.items():
                el.set(name, text)
    return root


def validate(record: CanonicalRecord, model: Model | None = None) -> etree._Element:
    """Validate the record against the XSD; raise SchemaViolation naming the field."""
    model = model or load_model()
    root = to_xml(record, model)
    if model.validator.validate(root):
        return root
    error = model.validator.error_log.last_error
    message = error.message if error is not None else "the record breaks the schema"
    raise SchemaViolation(_message(message),
                          field=_field_path(root, error.path if error is not None else None),
                          source=record.source_system, record=record.source_id)


def _field_path(root: etree._Element, xpath: str | None) -> str | None:
    """libxml2 reports ``/*/*[3]/*``; resolve it and name the steps: ``phones.phone``."""
    found = root.getroottree().xpath(xpath) if xpath else []
    if not found or not isinstance(found[0], etree._Element):
        return None
    names = [etree.QName(el).localname for el in found[0].iterancestors()][::-1]
    return ".".join([*names[1:], etree.QName(found[0]).localname]) or None


def _message(text: str) -> str:
    # libxml2 writes "Element '{urn:...}phone': [facet 'pattern'] The value ..."; drop namespaces.
    return re.sub(r"\{[^}]*[:/][^}]*\}", "", text)
