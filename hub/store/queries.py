"""Reading the master: typed views of one customer, search results, counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, or_, select

from hub.search import query_keys, query_patterns
from hub.store.engine import read
from hub.store.tables import blocking_keys, interactions, links, masters, source_records


@dataclass(frozen=True, slots=True)
class GoldenValue:
    """One value of a golden record and the source record it came from."""

    path: str
    value: str
    source: str   # system/id


@dataclass(frozen=True, slots=True)
class LinkedRecord:
    """A source record of a customer, with the latest decision that put it there."""

    source_system: str
    source_id: str
    location: str
    decision: str
    evidence: dict[str, Any] | None
    closed_at: datetime | None = None   # when its source said it is gone


@dataclass(frozen=True, slots=True)
class InteractionView:
    source_system: str
    source_id: str
    channel: str
    occurred_at: str
    fields: dict[str, list[str]]


@dataclass(frozen=True, slots=True)
class MasterView:
    """One customer: its golden record with lineage, its records and interactions.

    Asked for by an id that was merged away, it is the survivor's view, and
    ``resolved_from`` names the id asked for.
    """

    id: str
    status: str               # active | merged | retired
    merged_into: str | None
    version: int
    display_name: str
    values: list[GoldenValue]
    sources: list[str]
    records: list[LinkedRecord]
    interactions: list[InteractionView]
    merged_ids: list[str]     # ids merged into this one, which now resolve to it
    resolved_from: str | None = None


@dataclass(frozen=True, slots=True)
class MasterSummary:
    id: str
    display_name: str
    sources: list[str]


def count_masters(engine: Engine, status: str = "active") -> int:
    query = select(func.count()).select_from(masters).where(masters.c.status == status)
    return int(read(engine, "counting customers", lambda conn: conn.execute(query).scalar_one()))


def get_master(engine: Engine, master_id: str) -> MasterView | None:
    """The customer ``master_id``, or None; a merged-away id gives its survivor."""
    return read(engine, f"reading customer {master_id}", lambda conn: _view(conn, master_id))


def _view(conn: Connection, master_id: str) -> MasterView | None:
    """The customer's view, read in the caller's transaction."""
    sr = source_records.c
    row = _resolve(conn, master_id)
    if row is None:
        return None
    merged_ids = list(conn.execute(select(masters.c.id).where(
        masters.c.merged_into == row.id).order_by(masters.c.id)).scalars())
    records = conn.execute(select(sr.id, sr.source_system, sr.source_id, sr.location,
                                  sr.closed_at)
                           .where(sr.master_id == row.id).order_by(sr.id)).all()
    decisions: dict[int, Any] = {}
    if records:
        for link in conn.execute(select(links.c.source_record_id, links.c.decision,
                                        links.c.evidence)
                                 .where(links.c.source_record_id.in_([r.id for r in records]))
                                 .order_by(links.c.id)):
            decisions[link.source_record_id] = link   # the latest wins
    seen = conn.execute(select(interactions).where(interactions.c.master_id == row.id)
                        .order_by(interactions.c.occurred_at.desc()).limit(50)).all()
    golden = row.golden or {}
    return MasterView(
        row.id, row.status, row.merged_into, row.version, golden.get("display_name", ""),
        [GoldenValue(path, v["value"], v["source"])
         for path, values in golden.get("fields", {}).items() for v in values],
        list(golden.get("sources", [])),
        [LinkedRecord(r.source_system, r.source_id, r.location,
                      decisions[r.id].decision if r.id in decisions else "",
                      decisions[r.id].evidence if r.id in decisions else None, r.closed_at)
         for r in records],
        [InteractionView(i.source_system, i.source_id, i.channel, i.occurred_at,
                         {p: [v for v, _ in vs] for p, vs in i.canonical.items()})
         for i in seen],
        merged_ids, master_id if row.id != master_id else None)


def _resolve(conn: Connection, master_id: str) -> Any:
    """The master row of ``master_id``, following merges to the survivor."""
    row = conn.execute(select(masters).where(masters.c.id == master_id)).first()
    hops = 0
    while row is not None and row.status == "merged" and row.merged_into and hops < 100:
        row = conn.execute(select(masters).where(masters.c.id == row.merged_into)).first()
        hops += 1
    return row


def search(engine: Engine, text: str, *, limit: int = 20) -> list[MasterSummary]:
    """Active customers that ``text`` identifies (an e-mail, a phone in any form, a
    national code, ``system/id`` of a source record), else whose names match it across
    spellings and scripts: ``علي كريمي``, ``علی‌کریمی`` and ``Karimi`` all find علی کریمی.
    """
    if keys := query_keys(text):
        query = select(masters.c.id, masters.c.golden).where(
            masters.c.status == "active",
            masters.c.id.in_(select(blocking_keys.c.master_id)
                             .where(blocking_keys.c.key.in_(keys))))
    elif (system_id := text.strip().partition("/"))[1] and system_id[0] and system_id[2]:
        query = select(masters.c.id, masters.c.golden).where(
            masters.c.status == "active",
            masters.c.id.in_(select(source_records.c.master_id).where(
                source_records.c.source_system == system_id[0],
                source_records.c.source_id == system_id[2])))
    else:
        patterns = query_patterns(text)
        if not patterns:
            return []
        like = [masters.c.search_text.like(p, escape="\\") for p in patterns]
        query = select(masters.c.id, masters.c.golden).where(masters.c.status == "active",
                                                             or_(*like))
    query = query.order_by(masters.c.id).limit(limit)
    return read(engine, "searching customers", lambda conn: [
        MasterSummary(r.id, r.golden.get("display_name", ""), list(r.golden.get("sources", [])))
        for r in conn.execute(query)])

