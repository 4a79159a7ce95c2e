"""Quarantine: what could not be accepted, with every reason; kept, listed, never dropped.

Two kinds of entries: ``record``, a record that waits whole (it broke the schema, a strict
field was bad, nothing identifying was left, or its source could not give it readably),
and ``values``, a record that was accepted while some of its values wait, set aside
because they could not be standardized. Both close when the record is accepted again
without the problem, after a fix at the source or a replay after a mapping fix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, func, select, update

from hub import events
from hub.errors import Problem, RecordRejected
from hub.records import CanonicalRecord, RawRecord
from hub.store.engine import read
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
    kind: str = "record"               # record | values
    problems: tuple[Problem, ...] = ()

    def describe(self) -> str:
        """One sentence a person can act on: where the record is, which field, what is wrong."""
        where = self.location or f"{self.source_system} record {self.source_id}"
        if self.kind == "values":
            what = ("a value set aside" if len(self.problems) == 1
                    else f"{len(self.problems)} values set aside")
            reasons = "; ".join(p.describe() for p in self.problems)
            return (f"{where} (source {self.source_system}, record {self.source_id}): "
                    f"accepted, {what}: {reasons}")
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
        conn, select(q.source_system, q.source_id, q.content_hash)
        .where(q.kind == "record"), q.source_system,
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
                     "created_at": now, "kind": "record",
                     "problems": _problems_json(err.problems)})
        new_events.append(events.record_rejected(r.pipeline, (r.source_system, r.raw.source_id),
                                                 r.raw.location, err.stage, err.field,
                                                 err.reason))
    if rows:
        conn.execute(quarantine.insert(), rows)
        append(conn, new_events)
    return len(rows)


def accepted(conn: Connection, pipeline: str,
             records: Sequence[tuple[CanonicalRecord, RawRecord]]) -> int:
    """Records were accepted: close their entries, and keep (or open again) one
    ``values`` entry for each record accepted with values set aside. Returns how many
    such entries are new."""
    resolve(conn, [canon.ref for canon, _ in records])
    waiting = {(c.source_system, c.source_id, r.content_hash()): (c, r)
               for c, r in records if c.set_aside}
    if not waiting:
        return 0
    q = quarantine.c
    known = {(row.source_system, row.source_id, row.content_hash): row.id
             for row in select_refs(conn, select(q.id, q.source_system, q.source_id,
                                                 q.content_hash).where(q.kind == "values"),
                                    q.source_system, q.source_id,
                                    [(s, i) for s, i, _ in waiting])}
    now = datetime.now(UTC)
    reopen, new = [], []
    for key, (canon, raw) in waiting.items():
        problems = canon.set_aside
        summary = {"stage": "standardize", "field": problems[0].field,
                   "reason": RecordRejected.of(problems).reason,
                   "problems": _problems_json(problems)}
        if key in known:
            reopen.append({"b_id": known[key], "status": "open", **summary})
        else:
            new.append({"pipeline": pipeline, "source_system": canon.source_system,
                        "source_id": canon.source_id, "content_hash": key[2],
                        "location": raw.location, "raw": raw.storable(), "status": "open",
                        "created_at": now, "kind": "values", **summary})
    if reopen:
        conn.execute(update(quarantine).where(quarantine.c.id == bindparam("b_id")), reopen)
    if new:
        conn.execute(quarantine.insert(), new)
    return len(new)


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
            {"b_id": entry_id, "stage": e.stage, "field": e.field, "reason": e.reason,
             "problems": _problems_json(e.problems)} for entry_id, e in still])


def entries(engine: Engine, *, status: str | None = "open", ids: Sequence[int] = (),
            after: int = 0, limit: int | None = None) -> list[QuarantineEntry]:
    """Entries in id order: open ones by default, all with ``status=None``; a page of
    ``limit`` entries with an id above ``after``."""
    query = select(quarantine).where(quarantine.c.id > after).order_by(quarantine.c.id)
    if status:
        query = query.where(quarantine.c.status == status)
    if ids:
        query = query.where(quarantine.c.id.in_(list(ids)))
    if limit is not None:
        query = query.limit(limit)
    return read(engine, "reading the quarantine",
                lambda conn: [_entry(row) for row in conn.execute(query)])


def top_reasons(engine: Engine, limit: int = 5) -> list[tuple[str, str, int]]:
    """(stage, field, count) of open entries, most frequent first."""
    query = (select(quarantine.c.stage, quarantine.c.field, func.count())
             .where(quarantine.c.status == "open")
             .group_by(quarantine.c.stage, quarantine.c.field)
             .order_by(func.count().desc()).limit(limit))
    return read(engine, "reading the quarantine",
                lambda conn: [(s, f or "-", n) for s, f, n in conn.execute(query)])


def _entry(row: Any) -> QuarantineEntry:
    problems = tuple(Problem(p["field"], p["reason"]) for p in row.problems or ()) or (
        Problem(row.field, row.reason),)
    return QuarantineEntry(row.id, row.pipeline, row.source_system, row.source_id,
                           row.location, row.stage, row.field, row.reason, row.status,
                           row.raw, row.created_at, row.kind, problems)


def _problems_json(problems: Sequence[Problem]) -> list[dict[str, str | None]]:
    return [{"field": p.field, "reason": p.reason} for p in problems]
