"""The golden record: built from every linked source record; each value knows its source.

Rules v1: for a single-valued field the value from the most trusted source wins
(config ``survivorship.source_priority``), the most recently received one among equals;
e-mails and phones keep every distinct value, ordered the same way.

Consents (``consents.*``) are the exception: each takes the most recently received
value, whatever its source's rank. A consent is the customer's own statement, and the
latest one is the one that holds: a "لغو" texted today outranks the "yes" an old lead
sheet from the most trusted system recorded. "Received" is when the hub stored the
record (a changed record counts from its change), so a source that re-sends an
unchanged record does not revive an old statement. Records that say nothing about a
consent (an SMS that is no opt-out word) leave it as it was.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from hub.records import CanonicalRecord, display_name

MULTI_VALUED = ("emails.email", "phones.phone")
LATEST_WINS = ("consents.",)   # field paths taken from the newest record that has them


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
    _take(ordered, fields, latest=False)
    _take(newest_first, fields, latest=True)

    def first(path: str) -> str | None:
        return fields[path][0]["value"] if fields.get(path) else None

    return {
        "display_name": display_name(first),
        "fields": dict(sorted(fields.items())),
        "sources": sorted(f"{i.record.source_system}/{i.record.source_id}" for i in linked),
    }


def _take(items: Sequence[Linked], fields: dict[str, list[dict[str, str]]], *,
          latest: bool) -> None:
    """Add to ``fields`` the values of ``items``, in their order, of the fields that go by
    recency (``latest``) or by rank: a single-valued field's first value, a multi-valued
    field's every distinct one."""
    seen: dict[str, set[str]] = {}   # values kept per field, so each is kept once
    for item in items:
        rec = item.record
        source = f"{rec.source_system}/{rec.source_id}"
        for target, values in rec.fields.items():
            if target.startswith(LATEST_WINS) != latest:
                continue
            kept = fields.setdefault(target, [])
            if kept and target.partition(":")[0] not in MULTI_VALUED:
                continue
            have = seen.setdefault(target, set())
            for value in values:
                if value.value not in have:
                    have.add(value.value)
                    kept.append({"value": value.value, "source": source})
