"""The read API's answers as pydantic models, so ``/openapi.json`` documents each one.

They are the public shape, not the store's: a source record is ``{"system", "id"}`` as in
the events (docs/events.md), never the ``system/id`` string the store keeps, and a
consent is a boolean. Built from the typed views of ``hub.store`` (``MasterView``,
``QuarantineEntry``, ``Event``) by the ``of`` constructors.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from hub.store.outbox import Event
from hub.store.quarantine import QuarantineEntry
from hub.store.queries import MasterSummary, MasterView

CONSENT = "consents.consent:"


def _utc(when: datetime) -> datetime:
    """With its offset: SQLite hands back naive datetimes, and the store writes UTC."""
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


class ErrorAnswer(BaseModel):
    """Why a request was refused, as a sentence."""

    error: str


class FieldProblem(BaseModel):
    field: str
    problem: str


class InvalidAnswer(ErrorAnswer):
    """A parameter that cannot be taken, each named."""

    fields: list[FieldProblem]


class SourceRef(BaseModel):
    """A source record: its system and its id there."""

    system: str
    id: str

    @classmethod
    def of(cls, ref: str) -> SourceRef:
        system, _, source_id = ref.partition("/")   # a system name holds no "/"
        return cls(system=system, id=source_id)


class CustomerSummary(BaseModel):
    id: str
    display_name: str
    sources: list[SourceRef]

    @classmethod
    def of(cls, found: MasterSummary) -> CustomerSummary:
        return cls(id=found.id, display_name=found.display_name,
                   sources=[SourceRef.of(s) for s in found.sources])


class SearchAnswer(BaseModel):
    customers: list[CustomerSummary]


class Lineage(BaseModel):
    """A golden value and the source record it came from."""

    value: str
    source: SourceRef


class LinkedRecord(BaseModel):
    """A source record of the customer and the latest decision that put it there."""

    source: SourceRef
    location: str = Field(description="Where the record is: file and row, mailbox, form.")
    decision: str = Field(description="new, joined, kept, merged or moved.")
    evidence: dict[str, Any] | None = Field(description="Why: the rule and the record.")
    closed: bool = Field(description="Its source said it is gone; the link is closed.")
    closed_at: datetime | None


class Interaction(BaseModel):
    source: SourceRef
    channel: str
    occurred_at: str
    fields: dict[str, list[str]]


class Consent(BaseModel):
    channel: str = Field(description="sms, email, phone or post.")
    purpose: str | None = Field(
        default=None, description="marketing, service, profiling or research; null for "
                                  "the whole channel, whose \"no\" holds for every purpose.")
    opted_in: bool
    source: SourceRef

    @classmethod
    def of(cls, path: str, value: str, source: str) -> Consent:
        """``consents.consent:sms/marketing`` -> channel sms, purpose marketing."""
        channel, _, purpose = path.removeprefix(CONSENT).partition("/")
        return cls(channel=channel, purpose=purpose or None,
                   opted_in=value.lower() in ("true", "1"), source=SourceRef.of(source))


class Customer(BaseModel):
    """One customer: the golden record with the source of each value, the source records
    linked to it and why, its interactions (newest first, the last 50) and consents."""

    id: str
    status: str = Field(description="active, or retired when no record is left.")
    version: int
    display_name: str
    fields: dict[str, list[Lineage]]
    consent: list[Consent]
    records: list[LinkedRecord]
    interactions: list[Interaction]
    merged_ids: list[str] = Field(description="Ids merged into this one; they redirect here.")

    @classmethod
    def of(cls, view: MasterView) -> Customer:
        fields: dict[str, list[Lineage]] = {}
        for v in view.values:
            fields.setdefault(v.path, []).append(Lineage(value=v.value,
                                                         source=SourceRef.of(v.source)))
        return cls(
            id=view.id, status=view.status, version=view.version,
            display_name=view.display_name, fields=fields,
            consent=[Consent.of(v.path, v.value, v.source)
                     for v in view.values if v.path.startswith(CONSENT)],
            records=[LinkedRecord(source=SourceRef(system=r.source_system, id=r.source_id),
                                  location=r.location, decision=r.decision,
                                  evidence=r.evidence, closed=r.closed_at is not None,
                                  closed_at=r.closed_at and _utc(r.closed_at))
                     for r in view.records],
            interactions=[Interaction(source=SourceRef(system=i.source_system, id=i.source_id),
                                      channel=i.channel, occurred_at=i.occurred_at,
                                      fields=i.fields) for i in view.interactions],
            merged_ids=view.merged_ids)


class Moved(BaseModel):
    """A merged-away id: the customer lives on under ``merged_into``."""

    merged_into: str
    location: str


class QuarantineProblem(BaseModel):
    field: str | None
    reason: str


class QuarantineItem(BaseModel):
    id: int
    pipeline: str
    source: str = Field(description="The source system.")
    record: str = Field(description="The record's id in its source system.")
    location: str
    kind: str = Field(description="record: it waits whole; values: it was accepted and "
                                  "these values wait.")
    stage: str
    field: str | None
    reason: str
    problems: list[QuarantineProblem]
    status: str
    created_at: datetime
    raw: dict[str, Any] | None = Field(
        default=None, description="The record as its source gave it: only for a token "
                                  "with the admin scope, null otherwise.")

    @classmethod
    def of(cls, entry: QuarantineEntry, *, with_raw: bool) -> QuarantineItem:
        return cls(id=entry.id, pipeline=entry.pipeline, source=entry.source_system,
                   record=entry.source_id, location=entry.location, kind=entry.kind,
                   stage=entry.stage, field=entry.field, reason=entry.reason,
                   problems=[QuarantineProblem(field=p.field, reason=p.reason)
                             for p in entry.problems],
                   status=entry.status, created_at=_utc(entry.created_at),
                   raw=entry.raw if with_raw else None)


class QuarantinePage(BaseModel):
    entries: list[QuarantineItem]
    next: int = Field(description="Pass as `from` for the entries after these.")


class EventEnvelope(BaseModel):
    """An event as consumers see it on the bus (docs/events.md)."""

    model_config = ConfigDict(populate_by_name=True)

    schema_: str = Field(alias="schema")
    event_id: str
    type: str
    seq: int
    subject: str
    version: int | None
    occurred_at: str
    data: dict[str, Any]

    @classmethod
    def of(cls, event: Event) -> EventEnvelope:
        return cls.model_validate(event.envelope())


class EventPage(BaseModel):
    events: list[EventEnvelope]
    next: int = Field(description="The last seq of this page (the `from` given when it is "
                                  "empty): pass it as `from` to continue.")
