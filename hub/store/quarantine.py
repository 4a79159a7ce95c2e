"""Rejected records with their reason: kept, listed, never dropped."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, func, select, tuple_, update

from hub.errors import RecordRejected
from hub.records import RawRecord
from hub.store.outbox import NewEvent, append
from hub.store.tables import quarantine


@dataclass(frozen=True, slots=True)
class Rejection:
    """A record the pipeline could not accept, and why."""

    pipeline: str
    source_system: str
    raw: RawRecord
    error: RecordRejected


def add(conn: Connection, rejections: Sequence[Rejection]) -> int:
    """Quarantine what is not there yet (same source, id and content); return how many new.

    Each new entry also writes a ``record.rejected`` event, in the same transaction.
    """
    if not rejections:
        return 0
    pair = tuple_(quarantine.c.source_system, quarantine.c.source_id, quarantine.c.content_hash)
    wanted = {(r.source_system, r.raw.source_id, r.raw.content_hash()): r for r in rejections}
    seen = {tuple(r) for r in conn.execute(
        select(quarantine.c.source_system, quarantine.c.source_id, quarantine.c.content_hash)
        .where(pair.in_(list(wanted))))}
    now = datetime.now(UTC)
    rows, events = [], []
    for key, r in wanted.items():
        if key in seen:
            continue
        entry = {"pipeline": r.pipeline, "source_system": r.source_system,
                 "source_id": r.raw.source_id, "content_hash": key[2],
                 "location": r.raw.location, "stage": r.error.stage, "field": r.error.field,
                 "reason": r.error.reason, "raw": dict(r.raw.data), "status": "open",
                 "created_at": now}
        rows.append(entry)
        events.append(NewEvent("record.rejected", f"{r.source_system}/{r.raw.source_id}", None,
                               {k: entry[k] for k in ("pipeline", "source_system", "source_id",
                                                      "location", "stage", "field", "reason")}))
    if rows:
        conn.execute(quarantine.insert(), rows)
        append(conn, events)
    return len(rows)


def resolve(conn: Connection, refs: Sequence[tuple[str, str]]) -> int:
    """Close the open entries of records that have now been accepted; return how many."""
    # One IN list per source system: SQLite scans the table for a row-value IN (...).
    by_system: dict[str, list[str]] = {}
    for system, source_id in refs:
        by_system.setdefault(system, []).append(source_id)
    done = 0
    for system, ids in by_system.items():
        for start in range(0, len(ids), 500):
            done += conn.execute(update(quarantine).where(
                quarantine.c.status == "open", quarantine.c.source_system == system,
                quarantine.c.source_id.in_(ids[start:start + 500]))
                .values(status="resolved")).rowcount
    return done


def update_reasons(conn: Connection, still: Sequence[tuple[int, RecordRejected]]) -> None:
    """After a replay, keep each still-rejected entry's reason current."""
    if still:
        conn.execute(update(quarantine).where(quarantine.c.id == bindparam("b_id")), [
            {"b_id": entry_id, "stage": e.stage, "field": e.field, "reason": e.reason}
            for entry_id, e in still])


def describe(entry: Any) -> str:
    """One sentence a person can act on: where the record is, which field, what is wrong."""
    where = entry.location or f"{entry.source_system} record {entry.source_id}"
    field = f", field {entry.field}" if entry.field else ""
    return (f"{where} (source {entry.source_system}, record {entry.source_id}{field}): "
            f"{entry.reason}")


def entries(engine: Engine, *, status: str | None = "open") -> list[Any]:
    query = select(quarantine).order_by(quarantine.c.id)
    if status:
        query = query.where(quarantine.c.status == status)
    with engine.connect() as conn:
        return list(conn.execute(query))


def top_reasons(engine: Engine, limit: int = 5) -> list[tuple[str, str, int]]:
    """(stage, field, count) of open entries, most frequent first."""
    query = (select(quarantine.c.stage, quarantine.c.field, func.count())
             .where(quarantine.c.status == "open")
             .group_by(quarantine.c.stage, quarantine.c.field)
             .order_by(func.count().desc()).limit(limit))
    with engine.connect() as conn:
        return [(s, f or "-", n) for s, f, n in conn.execute(query)]
