"""The records that flow through the pipeline."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One record as the source gave it.

    Args:
        source_id: stable id within the source (a customer code, a file name and row).
        data: column or key -> value, exactly as read (strings, numbers, dates, None).
        location: where a person finds it, e.g. ``customers.csv row 12``; used in errors.
    """

    source_id: str
    data: Mapping[str, Any]
    location: str = ""

    def content_hash(self) -> str:
        """A hash of the data, so a re-read unchanged record is recognised."""
        blob = json.dumps(self.data, sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Value:
    """A standardized value with the raw text it came from."""

    value: str
    raw: str


@dataclass(slots=True)
class CanonicalRecord:
    """A record in the canonical model: target path -> values (see docs/mappings.md).

    A path is a dotted element path of ``schemas/customer.xsd``, with an optional
    ``:qualifier`` for typed repeated elements (``phones.phone:mobile``).
    """

    source_system: str
    source_id: str
    content_hash: str
    fields: dict[str, list[Value]] = field(default_factory=dict)
    location: str = ""
    raw_hash: str = ""   # the raw record and the mapping that made this: skip work on reruns

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

    @classmethod
    def from_json(
        cls, source_system: str, source_id: str, content_hash: str, data: Mapping[str, Any]
    ) -> CanonicalRecord:
        fields = {p: [Value(v, r) for v, r in vs] for p, vs in data.items()}
        return cls(source_system, source_id, content_hash, fields)


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """Where an adapter stopped: an opaque string only the adapter understands."""

    value: str
