"""The canonical model as the mapping sees it: the leaf fields of a target's schema.

Each target (``customer``, ``interaction``) is ``schemas/<target>.xsd``. A field path is
the dotted element path below the root (``addresses.address.city``); a leaf with an
enumerated attribute besides ``raw`` (phone ``type``, consent ``channel``) takes that
value as a qualifier: ``phones.phone:mobile``; a second enumerated attribute (a
consent's ``purpose``) follows a slash: ``consents.consent:sms/marketing``. Each leaf
knows its XSD type's name (``Phone``, ``Email``, ``Date``...), which picks the
standardizer that cleans it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xmlschema
from lxml import etree

from hub.resources import data_dir


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One leaf of the canonical model."""

    path: str
    order: int                      # document order, so XML is built in sequence order
    repeated: bool                  # the leaf itself may repeat (emails, phones, consents)
    qualifier_attr: str | None      # "type" for phones.phone, "channel" for consents
    qualifiers: tuple[str, ...]     # allowed qualifier values; empty: free (a name)
    simple_type: xmlschema.validators.XsdSimpleType
    type_name: str                  # the XSD type's local name: Phone, Email, Text, DateTime
    sub_attr: str | None = None     # "purpose" for consents: the qualifier after "/"
    sub_qualifiers: tuple[str, ...] = ()

    def attributes(self, qualifier: str) -> dict[str, str]:
        """The XML attributes ``qualifier`` stands for: ``sms/marketing`` is
        ``channel="sms" purpose="marketing"``."""
        if not (self.qualifier_attr and qualifier):
            return {}
        first, _, second = self._split(qualifier)
        return {self.qualifier_attr: first} | ({self.sub_attr: second}
                                               if self.sub_attr and second else {})

    def qualifier_problem(self, qualifier: str) -> str | None:
        """What is wrong with an enumerated ``qualifier`` (``mobile``, ``sms/marketing``)
        as a sentence, or None. A free one (a custom attribute's name) is config's."""
        first, slash, second = self._split(qualifier)
        if first not in self.qualifiers:
            return (f"{first!r} is not a {self.qualifier_attr or 'qualifier'} of {self.path} "
                    f"(allowed: {', '.join(self.qualifiers) or 'none'})")
        if slash and second not in self.sub_qualifiers:
            return (f"{second!r} is not a {self.sub_attr} of {self.path}:{first} "
                    f"(allowed: {', '.join(self.sub_qualifiers)})")
        return None

    def _split(self, qualifier: str) -> tuple[str, str, str]:
        """``sms/marketing`` -> (sms, /, marketing) where a second attribute exists."""
        return qualifier.partition("/") if self.sub_attr else (qualifier, "", "")

    @property
    def enumeration(self) -> tuple[str, ...]:
        """The allowed values of an enumerated type (empty for other types)."""
        return tuple(getattr(self.simple_type, "enumeration", None) or ())

    def accepts(self, value: str) -> bool:
        """Whether ``value`` is a valid lexical value of the leaf's XSD type."""
        return bool(self.simple_type.is_valid(value))


@dataclass(frozen=True, slots=True)
class Model:
    """A compiled schema: its namespace, root, leaf fields, and an lxml validator."""

    namespace: str
    root: str
    fields: dict[str, FieldSpec]
    validator: etree.XMLSchema


# Parsing schemas never touches the network or resolves entities (DESIGN.md, hostile input).
HARDENED_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                                  huge_tree=False, remove_blank_text=True)


@functools.cache
def load_model(name: str = "customer", schema_dir: Path | None = None) -> Model:
    """Compile ``schemas/<name>.xsd`` once per process."""
    path = (schema_dir or data_dir("schemas")) / f"{name}.xsd"
    xsd = xmlschema.XMLSchema(str(path))
    root = xsd.elements[name]
    fields: dict[str, FieldSpec] = {}
    _walk(root, "", fields)
    validator = etree.XMLSchema(etree.parse(str(path), HARDENED_PARSER))
    return Model(xsd.target_namespace, name, fields, validator)


def _walk(elem: Any, prefix: str, out: dict[str, FieldSpec]) -> None:
    # A record fills one instance of each container (one address per source record).
    # xmlschema's own annotations are looser than its objects; ``Any`` says so here.
    for child in elem:
        path = f"{prefix}{child.local_name}"
        rep = child.max_occurs is None or child.max_occurs > 1
        xsd_type: Any = child.type
        if xsd_type.has_simple_content():
            # The first attribute besides @raw qualifies the value: enumerated (a phone's
            # type) or free (a custom attribute's name, declared in config.yaml); an
            # enumerated second one (a consent's purpose) may follow it after a slash.
            attrs = [(name, tuple(a.type.enumeration or ())) for name, a in
                     child.attributes.items() if name != "raw"]
            qualifier, sub = [*attrs, (None, ()), (None, ())][:2]
            simple = xsd_type if xsd_type.is_simple() else xsd_type.content
            out[path] = FieldSpec(path, len(out), rep, qualifier[0], qualifier[1], simple,
                                  _type_name(xsd_type), sub[0] if sub[1] else None, sub[1])
        elif xsd_type.is_complex() and xsd_type.content and len(xsd_type.content):
            _walk(child, f"{path}.", out)
        # Elements with attributes only (source) are filled in by the pipeline, not mapped.


def _type_name(xsd_type: Any) -> str:
    # Named types keep their name (c:Phone -> Phone); xs:dateTime is "dateTime".
    named = xsd_type if xsd_type.name else xsd_type.base_type
    return str(named.local_name) if named is not None and named.name else "string"


TARGETS = ("customer", "interaction")
