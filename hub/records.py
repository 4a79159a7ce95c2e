"""The records that flow through the pipeline, and the checkpoint each one carries."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple

from lxml import etree

# A source system's name: it prefixes ``system/id`` references, so it holds no '/'.
SOURCE_SYSTEM = re.compile(r"[^\s/]{1,64}")

# XML payloads are parsed by the adapter with a hardened parser; storing one keeps its
# serialization under this key, so a quarantined XML record can be replayed.
_XML_KEY = "$xml"


class Target(StrEnum):
    """What a canonical record describes; each target has its schema in ``schemas/``."""

    CUSTOMER = "customer"
    INTERACTION = "interaction"


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """Where a source stands after a record: an opaque string only its adapter reads."""

    value: str


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One record as the source gave it.

    Args:
        source_id: stable id within the source (a customer code, a file name and row).
        data: the payload: column or key -> value as read (strings, numbers, None), or
            an XML element for sources that send documents.
        location: where a person finds it, e.g. ``customers.csv row 12``; used in errors.
        checkpoint: the source's position once this record is safely stored; the engine
            saves the checkpoint of the last record a commit covers.
        problem: set when the adapter could not read the record properly (a row whose
            bytes are not in the file's encoding, a quote that never closes): a sentence
            saying what is wrong. The engine quarantines the record with it, and ``data``
            holds what could be read, so nothing is lost.
        deleted: the source says the record is gone (deleted, or no longer active): its
            link to its customer is closed, and the customer is rebuilt without it.
            ``data`` may be empty.
    """

    source_id: str
    data: Mapping[str, Any] | etree._Element
    location: str = ""
    checkpoint: Checkpoint | None = None
    problem: str | None = None
    deleted: bool = False

    @property
    def is_xml(self) -> bool:
        return isinstance(self.data, etree._Element)

    def storable(self) -> dict[str, Any]:
        """The payload as JSON can hold it (XML as its serialization)."""
        if isinstance(self.data, etree._Element):
            return {_XML_KEY: etree.tostring(self.data, encoding="unicode")}
        return dict(self.data)

    def content_hash(self) -> str:
        """A hash of the payload, so a re-read unchanged record is recognised."""
        if isinstance(self.data, etree._Element):
            blob = etree.tostring(self.data, method="c14n")
        else:
            blob = json.dumps(self.data, sort_keys=True, ensure_ascii=False,
                              default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:32]

    @classmethod
    def from_storable(cls, source_id: str, stored: Mapping[str, Any],
                      location: str = "") -> RawRecord:
        """The record ``storable`` wrote, for a replay."""
        if set(stored) == {_XML_KEY}:
            parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
            return cls(source_id, etree.fromstring(stored[_XML_KEY].encode(), parser),
                       location)
        return cls(source_id, dict(stored), location)


class Value(NamedTuple):
    """A standardized value with the raw text it came from (a tuple: a big master's
    records are read back by the thousand, and a tuple is the cheapest to make)."""

    value: str
    raw: str


@dataclass(slots=True)
class CanonicalRecord:
    """A record in the canonical model: target path -> values (see docs/mappings.md).

    A path is a dotted element path of the target's schema (``schemas/customer.xsd``,
    ``schemas/interaction.xsd``), with an optional ``:qualifier`` for typed repeated
    elements (``phones.phone:mobile``).
    """

    source_system: str
    source_id: str
    content_hash: str
    fields: dict[str, list[Value]] = field(default_factory=dict)
    location: str = ""
    raw_hash: str = ""   # the raw record and the mapping that made this: skip work on reruns
    target: Target = Target.CUSTOMER
    # Values left out because they could not be standardized (hub.errors.Problem): the
    # record goes on without them and they wait in quarantine for a fix.
    set_aside: list[Any] = field(default_factory=list)

    @property
    def ref(self) -> tuple[str, str]:
        return (self.source_system, self.source_id)

    def first(self, path: str) -> str | None:
        """The first standardized value at ``path``, or None."""
        values = self.fields.get(path)
        return values[0].value if values else None

    def values(self, path: str) -> list[str]:
        return [v.value for v in self.fields.get(path, ())]

    def to_json(self) -> dict[str, list[list[str]]]:
        return {p: [[v.value, v.raw] for v in vs] for p, vs in self.fields.items()}

    def compute_hash(self) -> str:
        """A hash of the canonical content: a re-read record that maps to the same
        canonical form is recognised as unchanged, and a changed mapping is not."""
        blob = json.dumps(self.to_json(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode()).hexdigest()[:32]

    def display_name(self) -> str:
        return display_name(self.first)

    @classmethod
    def from_json(cls, source_system: str, source_id: str, content_hash: str,
                  data: Mapping[str, Any], target: Target = Target.CUSTOMER
                  ) -> CanonicalRecord:
        fields = {p: [Value(v, r) for v, r in vs] for p, vs in data.items()}
        return cls(source_system, source_id, content_hash, fields, target=target)


def display_name(first: Callable[[str], str | None]) -> str:
    """A customer's name as one string, from whatever holds its fields ('' when none).

    An organization is its name (``name.*`` is then the person to deal with there); else
    the full name, else given and family name, else the organization's name. ``first``
    returns the first value at a path (a record's, or a golden record's).
    """
    if first("kind") == "organization" and (company := first("organization.name")):
        return company
    if full := first("name.full"):
        return full
    joined = " ".join(p for p in (first("name.given"), first("name.family")) if p)
    return joined or first("organization.name") or ""
