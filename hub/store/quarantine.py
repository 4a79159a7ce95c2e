"""Rejected records with their reason: kept, listed, never dropped."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, func, select, update

from hub import events
from hub.errors import RecordRejected
from hub.records import RawRecord
from hub.store.engine import reading
from hub.store.outbox import append
from hub.store.sql import by_system, chunks, select_refs
from hub.store.tables import quarantine


@dataclass(frozen=True, slots=True)
class Rejection:
    """A record the pipeline could not accept, and why."""

    pipeline: str
    source_system: str
    raw: RawRecord
    error: RecordRejected


@dataclass(frozen=True, slots=True)
class QuarantineEntry:
    """One quarantined record, as ``peyvand quarantine list`` and the API show it."""

    id: int
    pipeline: str
    source_system: str
    source_id: str
    location: str
    stage: str
    field: str | None
    reason: str
    status: str
    raw: dict[str, Any]
    created_at: datetime

    def describe(self) -> str:
        """One sentence a person can act on: where the record is, which field, what is wrong."""
        where = self.location or f"{self.source_system} record {self.source_id}"
        field = f", field {self.field}" if self.field else ""
        return (f"{where} (source {self.source_system}, record {self.source_id}{field}): "
                f"{self.reason}")


def add(conn: Connection, rejections: Sequence[Rejection]) -> int:
    """Quarantine what is not there yet (same source, id and content); return how many new.

    Each new entry also writes a ``record.rejected`` event, in the same transaction.
    """
    if not rejections:
        return 0
    wanted = {(r.source_system, r.raw.source_id, r.raw.content_hash()): r for r in rejections}
    q = quarantine.c
    seen = {(row.source_system, row.source_id, row.content_hash) for row in select_refs(
        conn, select(q.source_system, q.source_id, q.content_hash), q.source_system,
        q.source_id, [(system, sid) for system, sid, _ in wanted])}
    now = datetime.now(UTC)
    rows, new_events = [], []
    for key, r in wanted.items():
        if key in seen:
            continue
        err = r.error
        rows.append({"pipeline": r.pipeline, "source_system": r.source_system,
                     "source_id": r.raw.source_id, "content_hash": key[2],
                     "location": r.raw.location, "stage": err.stage, "field": err.field,
                     "reason": err.reason, "raw": r.raw.storable(), "status": "open",
                     "created_at": now})
        new_events.append(events.record_rejected(r.pipeline, (r.source_system, r.raw.source_id),
                                                 r.raw.location, err.stage, err.field,
                                                 err.reason))
    if rows:
        conn.execute(quarantine.insert(), rows)
        append(conn, new_events)
    return len(rows)


def resolve(conn: Connection, refs: Sequence[tuple[str, str]]) -> int:
    """Close the open entries of records that have now been accepted; return how many."""
    done = 0
    for system, ids in by_system(refs).items():
        for chunk in chunks(ids):
            done += conn.execute(update(quarantine).where(
                quarantine.c.status == "open", quarantine.c.source_system == system,
                quarantine.c.source_id.in_(chunk)).values(status="resolved")).rowcount
    return done


def update_reasons(conn: Connection, still: Sequence[tuple[int, RecordRejected]]) -> None:
    """After a replay, keep each still-rejected entry's reason current."""
    if still:
        conn.execute(update(quarantine).where(quarantine.c.id == bindparam("b_id")), [
            {"b_id": entry_id, "stage": e.stage, "field": e.field, "reason": e.reason}
            for entry_id, e in still])


def entries(engine: Engine, *, status: str | None = "open",
            ids: Sequence[int] = ()) -> list[QuarantineEntry]:
    """Entries in id order: open ones by default, all with ``status=None``."""
    query = select(quarantine).order_by(quarantine.c.id)
    if status:
        query = query.where(quarantine.c.status == status)
    if ids:
        query = query.where(quarantine.c.id.in_(list(ids)))
    with reading(engine, "reading the quarantine") as conn:
        return [_entry(row) for row in conn.execute(query)]


def top_reasons(engine: Engine, limit: int = 5) -> list[tuple[str, str, int]]:
    """(stage, field, count) of open entries, most frequent first."""
    query = (select(quarantine.c.stage, quarantine.c.field, func.count())
             .where(quarantine.c.status == "open")
             .group_by(quarantine.c.stage, quarantine.c.field)
             .order_by(func.count().desc()).limit(limit))
    with reading(engine, "reading the quarantine") as conn:
        return [(s, f or "-", n) for s, f, n in conn.execute(query)]


def _entry(row: Any) -> QuarantineEntry:
    return QuarantineEntry(row.id, row.pipeline, row.source_system, row.source_id,
                           row.location, row.stage, row.field, row.reason, row.status,
                           row.raw, row.created_at)
