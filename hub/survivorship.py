"""The golden record: built from every linked source record; each value knows its source.

Rules v1: for a single-valued field the value from the most trusted source wins
(config ``survivorship.source_priority``), the most recently received one among equals;
e-mails and phones keep every distinct value, ordered the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from hub.records import CanonicalRecord, display_name

MULTI_VALUED = ("emails.email", "phones.phone")


@dataclass(frozen=True, slots=True)
class SurvivorshipSettings:
    """``survivorship:`` in config.yaml.

    Args:
        source_priority: source systems, most trusted first; a single-valued field
            takes its value from the first of them that has one.
    """

    section: ClassVar[str] = "survivorship"
    source_priority: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Linked:
    """A source record as survivorship sees it."""

    record: CanonicalRecord
    received: tuple[Any, ...]   # sorts later for a record received later


def build_golden(linked: Sequence[Linked], priority: Sequence[str]) -> dict[str, Any]:
    """The golden record as stored: fields with provenance, display name, sources."""
    rank = {system: i for i, system in enumerate(priority)}
    newest_first = sorted(linked, key=lambda i: i.received, reverse=True)
    ordered = sorted(newest_first, key=lambda i: rank.get(i.record.source_system, len(rank)))
    fields: dict[str, list[dict[str, str]]] = {}
    seen: dict[str, set[str]] = {}   # values kept per field, so each is kept once
    for item in ordered:
        rec = item.record
        source = f"{rec.source_system}/{rec.source_id}"
        for target, values in rec.fields.items():
            kept = fields.setdefault(target, [])
            if kept and target.partition(":")[0] not in MULTI_VALUED:
                continue
            have = seen.setdefault(target, set())
            for value in values:
                if value.value not in have:
                    have.add(value.value)
                    kept.append({"value": value.value, "source": source})

    def first(path: str) -> str | None:
        return fields[path][0]["value"] if fields.get(path) else None

    return {
        "display_name": display_name(first),
        "fields": dict(sorted(fields.items())),
        "sources": sorted(f"{i.record.source_system}/{i.record.source_id}" for i in linked),
    }
