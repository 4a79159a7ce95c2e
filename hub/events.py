"""The event catalogue: every event type, and the one builder that makes each.

An event is what consumers see of a change (docs/events.md): an envelope with an
``event_id``, a ``type`` that is also the bus routing key, the ``subject`` it is about,
the subject's ``version`` after the change, and a public ``data`` payload. The payload is
built here from the stored state but is not the storage format: sources are objects,
not ``system/id`` strings, and the schema (``schemas/events.schema.json``) is versioned
by ``SCHEMA``, so the store can change without breaking a consumer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

SCHEMA = "urn:peyvand:event:v1"   # a breaking change of any payload gets a new version


class EventType(StrEnum):
    """Event types; the value is the routing key on the ``peyvand.events`` exchange."""

    CUSTOMER_CREATED = "customer.created"
    CUSTOMER_UPDATED = "customer.updated"
    CUSTOMER_MERGED = "customer.merged"
    CUSTOMER_UNMERGED = "customer.unmerged"
    CUSTOMER_ERASED = "customer.erased"
    INTERACTION_RECORDED = "interaction.recorded"
    RECORD_REJECTED = "record.rejected"


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event to append; the outbox assigns its id, time and sequence number.

    Args:
        type: the event type.
        subject: what the event is about: a master id, or ``system/record``.
        version: the subject's version after the change, when it has one.
        data: the public payload (JSON-serializable).
    """

    type: EventType
    subject: str
    version: int | None
    data: dict[str, Any]


def source_ref(ref: str | Sequence[str]) -> dict[str, str]:
    """``{"system", "id"}`` from ``"system/id"`` (a system name holds no ``/``) or a pair."""
    system, source_id = ref.split("/", 1) if isinstance(ref, str) else ref
    return {"system": system, "id": source_id}


def public_customer(master_id: str, status: str, golden: Mapping[str, Any]) -> dict[str, Any]:
    """A golden record as consumers see it: every value with the record it came from, the
    rule that chose it and, for a consent, when it was received (``hub.survivorship``;
    golden records stored by earlier releases have neither)."""
    fields = {path: [_public_value(v) for v in values]
              for path, values in golden.get("fields", {}).items()}
    return {"id": master_id, "status": status, "display_name": golden.get("display_name", ""),
            "fields": fields, "sources": [source_ref(s) for s in golden.get("sources", [])]}


def _public_value(stored: Mapping[str, Any]) -> dict[str, Any]:
    value = {"value": stored["value"], "source": source_ref(stored["source"])}
    if "rule" in stored:   # one event per change of a large load: no comprehension here
        value["rule"] = stored["rule"]
    if "at" in stored:
        value["at"] = stored["at"]
    return value


def customer_created(master_id: str, version: int, golden: Mapping[str, Any]) -> NewEvent:
    return NewEvent(EventType.CUSTOMER_CREATED, master_id, version,
                    {"customer": public_customer(master_id, "active", golden)})


def customer_updated(master_id: str, version: int, status: str,
                     golden: Mapping[str, Any],
                     closed: Sequence[tuple[str, str]] = ()) -> NewEvent:
    """A changed customer; ``status`` ``retired`` when its last record moved away or is
    gone. ``closed``: records whose source says they are gone (their links closed)."""
    data: dict[str, Any] = {"customer": public_customer(master_id, status, golden)}
    if closed:
        data["closed_sources"] = [source_ref(ref) for ref in sorted(closed)]
    return NewEvent(EventType.CUSTOMER_UPDATED, master_id, version, data)


def customer_merged(master_id: str, version: int, golden: Mapping[str, Any],
                    merged_ids: Sequence[str]) -> NewEvent:
    """``master_id`` absorbed ``merged_ids``; those ids now resolve to it."""
    return NewEvent(EventType.CUSTOMER_MERGED, master_id, version,
                    {"customer": public_customer(master_id, "active", golden),
                     "merged_ids": sorted(merged_ids)})


def customer_unmerged(master_id: str, version: int, status: str,
                      golden: Mapping[str, Any], unmerged_from: str) -> NewEvent:
    """An unmerge gave ``master_id`` back its records from ``unmerged_from``: the id no
    longer resolves to that survivor (which gets a ``customer.updated`` of its own)."""
    return NewEvent(EventType.CUSTOMER_UNMERGED, master_id, version,
                    {"customer": public_customer(master_id, status, golden),
                     "unmerged_from": unmerged_from})


def customer_erased(master_id: str, version: int, erased_ids: Sequence[str],
                    sources: Sequence[tuple[str, str]]) -> NewEvent:
    """A right-to-be-forgotten request erased ``master_id`` (and the ids merged into it):
    consumers delete what they hold under those ids and ``sources``; earlier events about
    them now carry ``ERASED`` as their payload."""
    return NewEvent(EventType.CUSTOMER_ERASED, master_id, version,
                    {"customer_id": master_id, "erased_ids": sorted(erased_ids),
                     "sources": [source_ref(ref) for ref in sorted(sources)]})


# The payload an event about an erased person carries from then on (seq, type, subject and
# version stay, so consumers' offsets and version counters hold).
ERASED: dict[str, Any] = {"erased": True}


def interaction_recorded(source: tuple[str, str], canonical: Mapping[str, Any],
                         customer_id: str | None) -> NewEvent:
    """An accepted interaction, with the customer it is attached to (None: no one yet)."""
    fields = {path: [v for v, _raw in values] for path, values in canonical.items()}
    return NewEvent(EventType.INTERACTION_RECORDED, "/".join(source), None,
                    {"interaction": {"source": source_ref(source), "fields": fields},
                     "customer_id": customer_id})


def record_rejected(pipeline: str, source: tuple[str, str], location: str, stage: str,
                    field: str | None, reason: str) -> NewEvent:
    """A record went to quarantine; ``reason`` is a sentence a person can act on."""
    return NewEvent(EventType.RECORD_REJECTED, "/".join(source), None,
                    {"pipeline": pipeline, "source": source_ref(source), "location": location,
                     "stage": stage, "field": field, "reason": reason})
