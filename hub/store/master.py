"""The master repository: applies a batch's matching plan inside the caller's unit of work.

``MasterRepository.ingest`` sorts the batch into unchanged and new or changed records,
reads the candidates (``hub.store.candidates``), lets ``hub.matching.plan_batch``
decide, and applies the plan in bulk: masters, merges, source records, blocking keys, a
link row per decision with its evidence. It then rebuilds the golden record of every
master the plan touched from its records (the batch's own from memory, the others read
once) and appends their events. All of it commits with the caller's transaction.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from hub import events
from hub.matching import Decision, DecisionKind, Incoming, Plan, Profile, plan_batch, profile_of
from hub.matching.scoring import ProbabilisticMatcher
from hub.records import CanonicalRecord, RawRecord
from hub.search import search_text
from hub.store.candidates import load_candidates
from hub.store.dialect import lock
from hub.store.history import MergeRecord, record_merges
from hub.store.merging import absorb_masters
from hub.store.outbox import append
from hub.store.sql import chunks, select_in, select_refs
from hub.store.tables import blocking_keys, links, masters, source_records
from hub.survivorship import GoldenRules, Linked, build_golden

_sr = source_records.c


def insert_masters(conn: Connection, ids: Sequence[str], now: datetime) -> None:
    """New, empty masters: their golden records are built when their records are in."""
    if ids:
        conn.execute(insert(masters), [
            {"id": m, "status": "active", "version": 0, "golden": {}, "search_text": "",
             "created_at": now, "updated_at": now} for m in ids])


def new_master_id() -> str:
    """A stable, time-ordered id: older masters sort first (the survivor of a merge)."""
    return f"C{time.time_ns() // 1_000_000:011x}{secrets.token_hex(6)}".upper()


@dataclass
class BatchOutcome:
    """What one batch changed."""

    unchanged: int = 0
    added: int = 0                      # new source records
    changed: int = 0                    # known source records with new content
    linked: int = 0                     # records that joined an existing master
    created: list[str] = field(default_factory=list)
    merged: int = 0                     # established masters absorbed by another
    events: int = 0


@dataclass
class _Item:
    record: CanonicalRecord
    raw: RawRecord
    profile: Profile
    row_id: int | None = None          # existing source_records.id
    current: str | None = None         # its master before this batch
    decision: Decision | None = None   # set by _apply, from the plan
    master: str = ""                   # the decision's master


class MasterRepository:
    """Links canonical customer records to masters: matching plan + survivorship."""

    def __init__(self, matcher: ProbabilisticMatcher, priority: GoldenRules | Sequence[str],
                 *, max_key_records: int = 50, contradiction: float = -30.0,
                 key_prefixes: tuple[str, ...] = ()) -> None:
        self.matcher, self.key_prefixes = matcher, key_prefixes
        self.priority = priority if isinstance(priority, GoldenRules) else tuple(priority)
        self.max_key_records, self.contradiction = max_key_records, contradiction

    def ingest(self, conn: Connection,
               batch: Sequence[tuple[CanonicalRecord, RawRecord]]) -> BatchOutcome:
        """Match, link and publish ``batch`` inside the caller's transaction."""
        lock(conn, "match")   # see hub.store.dialect: one matcher per store at a time
        out = BatchOutcome()
        items = self._changes(conn, batch, out)
        if not items:
            return out
        changed = {i.row_id for i in items if i.row_id is not None}
        for chunk in chunks(sorted(changed)):
            conn.execute(delete(blocking_keys).where(blocking_keys.c.source_record_id
                                                     .in_(chunk)))
        candidates, record_ids = load_candidates(conn, (i.profile for i in items), changed,
                                                 self.max_key_records, self.key_prefixes)
        plan = plan_batch([Incoming(i.record.ref, i.profile, i.current) for i in items],
                          candidates, matcher=self.matcher, new_id=new_master_id,
                          contradiction=self.contradiction)
        out.added = sum(1 for i in items if i.row_id is None)
        out.changed = len(items) - out.added
        now = datetime.now(UTC)
        self._apply(conn, items, plan, now, record_ids)
        if plan.reviews:
            from hub.store.review import add_pairs  # review merges through this module

            record_ids.update((i.record.ref, i.row_id) for i in items if i.row_id is not None)
            add_pairs(conn, [(record_ids[r.a], record_ids[r.b], r.evidence.score,
                              r.evidence.to_json()) for r in plan.reviews])
        out.linked = sum(1 for i in items if i.decision and i.decision.kind is
                         DecisionKind.JOINED and i.master != i.current)
        out.created, out.merged = plan.created, len(plan.merges)
        out.events = self._rebuild(conn, items, plan, now)
        return out

    def _changes(self, conn: Connection, batch: Sequence[tuple[CanonicalRecord, RawRecord]],
                 out: BatchOutcome) -> list[_Item]:
        """The new and changed records of ``batch`` (the last of a repeated id wins)."""
        latest = {canon.ref: (canon, raw) for canon, raw in batch}
        out.unchanged += len(batch) - len(latest)
        known = {(r.source_system, r.source_id): r for r in known_records(conn, latest)}
        items, rehash = [], []
        for ref, (canon, raw) in latest.items():
            row = known.get(ref)
            if row is not None and row.content_hash == canon.content_hash \
                    and row.closed_at is None:
                out.unchanged += 1
                if row.raw_hash != canon.raw_hash:   # same meaning, other raw form
                    rehash.append({"b_id": row.id, "raw_hash": canon.raw_hash,
                                   "raw": raw.storable(), "location": raw.location})
                continue
            items.append(_Item(canon, raw, profile_of(canon), row.id if row else None,
                               row.master_id if row else None))
        if rehash:
            conn.execute(update(source_records).where(_sr.id == bindparam("b_id")), rehash)
        return items

    def _apply(self, conn: Connection, items: list[_Item], plan: Plan, now: datetime,
               record_ids: dict[tuple[str, str], int]) -> None:
        for item, decision in zip(items, plan.decisions, strict=True):
            item.decision, item.master = decision, decision.master
        insert_masters(conn, plan.created, now)
        self._move(conn, plan, record_ids, now)
        moved = self._merge(conn, plan, record_ids, now)
        new = [i for i in items if i.row_id is None]
        if new:
            ids = conn.execute(insert(source_records).returning(_sr.id,
                                                                sort_by_parameter_order=True),
                               [_row(i, now) for i in new]).scalars().all()
            for item, row_id in zip(new, ids, strict=True):
                item.row_id = row_id
        changed = [{"b_id": i.row_id, **_row(i, now)} for i in items if i.current is not None]
        if changed:
            conn.execute(update(source_records).where(_sr.id == bindparam("b_id")), changed)
        keys = [{"key": k, "source_record_id": i.row_id, "master_id": i.master}
                for i in items for k in i.profile.all_keys()]
        if keys:
            conn.execute(insert(blocking_keys), keys)
        conn.execute(insert(links), [*moved, *(_link(i, now) for i in items)])

    @staticmethod
    def _move(conn: Connection, plan: Plan, record_ids: dict[tuple[str, str], int],
              now: datetime) -> None:
        """Stored records a settled conflict moved to another master (hub.matching.plan)."""
        if not plan.moves:
            return
        rows = [{"b_id": record_ids[m.ref], "b_master": m.target} for m in plan.moves]
        for table, column in ((source_records, _sr.id),
                              (blocking_keys, blocking_keys.c.source_record_id)):
            conn.execute(update(table).where(column == bindparam("b_id"))
                         .values(master_id=bindparam("b_master")), rows)
        conn.execute(insert(links), [
            {"source_record_id": record_ids[m.ref], "master_id": m.target,
             "decision": "moved", "evidence": {**m.evidence.to_json(), "moved_from": m.source},
             "decided_at": now} for m in plan.moves])

    @staticmethod
    def _merge(conn: Connection, plan: Plan, record_ids: dict[tuple[str, str], int],
               now: datetime) -> list[dict[str, Any]]:
        """Absorb the plan's merged masters into their survivors (``absorb_masters``) and
        write their history; return the link rows of the records that moved."""
        if not plan.merges:
            return []
        survivor_of = {m.absorbed: m.survivor for m in plan.merges}
        why = {m.absorbed: {"rule": m.evidence.rule, "record": events.source_ref(m.by),
                            "merged_from": m.absorbed} for m in plan.merges}
        moved = absorb_masters(conn, survivor_of, now)
        # A settled conflict that took every record of an established master merged it
        # (hub.matching.plan): its records already went one by one (``_move``, each with
        # a ``moved`` link), so the history lists those that went to the survivor, and
        # ``peyvand master unmerge`` can put them back. Records it sent to a third master
        # stay moves, as do moves that leave a master some of its records.
        settled: dict[tuple[str, str], list[int]] = {}
        for move in plan.moves:
            settled.setdefault((move.source, move.target), []).append(record_ids[move.ref])
        record_merges(conn, [MergeRecord(m.survivor, m.absorbed, [
            *moved[m.absorbed], *settled.get((m.absorbed, m.survivor), ())], "auto",
            why[m.absorbed], now) for m in plan.merges])
        return [{"source_record_id": rid, "master_id": survivor_of[absorbed],
                 "decision": "merged", "evidence": why[absorbed], "decided_at": now}
                for absorbed, rids in moved.items() for rid in rids]

    def close(self, conn: Connection, refs: Sequence[tuple[str, str]]) -> int:
        """Close the links of records their source says are gone; rebuild their masters
        without them (``customer.updated``, ``retired`` when none is left). Returns how
        many links were closed; a record already closed or never stored is no change."""
        lock(conn, "match")
        rows = [r for r in known_records(conn, refs) if r.closed_at is None]
        if not rows:
            return 0
        now = datetime.now(UTC)
        ids = [r.id for r in rows]
        for chunk in chunks(ids):
            conn.execute(update(source_records).where(_sr.id.in_(chunk))
                         .values(closed_at=now))
            conn.execute(delete(blocking_keys).where(blocking_keys.c.source_record_id
                                                     .in_(chunk)))
        conn.execute(insert(links), [
            {"source_record_id": r.id, "master_id": r.master_id, "decision": "closed",
             "evidence": {"rule": "gone at the source"}, "decided_at": now} for r in rows])
        closed: dict[str, list[tuple[str, str]]] = {}
        for r in rows:
            closed.setdefault(r.master_id, []).append((r.source_system, r.source_id))
        self._publish(conn, set(closed), [], set(), {}, now, closed)
        return len(rows)

    def rebuild(self, conn: Connection, masters: set[str], *, created: Iterable[str] = (),
                merged: dict[str, list[str]] | None = None,
                unmerged: dict[str, str] | None = None, now: datetime | None = None) -> int:
        """Rebuild the golden records of ``masters`` from their open records and append
        one event each (``customer.created`` for ``created``, ``customer.merged`` for
        survivor -> absorbed ids in ``merged``, ``customer.unmerged`` for restored id ->
        its former survivor in ``unmerged``, else ``customer.updated``); how many."""
        return self._publish(conn, set(masters), [], set(created), merged or {},
                             now or datetime.now(UTC), {}, unmerged)

    def _rebuild(self, conn: Connection, items: list[_Item], plan: Plan,
                 now: datetime) -> int:
        """Recompute the golden records of the masters the plan touched; append events."""
        absorbed = {m.absorbed: m.survivor for m in plan.merges}
        touched = {i.master for i in items} | {absorbed.get(i.current, i.current)
                                               for i in items if i.current}
        touched |= {absorbed.get(m, m) for move in plan.moves
                    for m in (move.source, move.target)}
        # Masters made by this batch hold only its records (unless a settled conflict moved
        # stored ones there): nothing to read back for them.
        fresh = set(plan.created) - {m.target for m in plan.moves}
        return self._publish(conn, touched, items, set(plan.created), plan.absorbed_by(),
                             now, {}, fresh=fresh)

    def _publish(self, conn: Connection, touched: set[str], items: list[_Item],
                 created: set[str], merged_ids: dict[str, list[str]], now: datetime,
                 closed: dict[str, list[tuple[str, str]]],
                 unmerged: dict[str, str] | None = None, *, fresh: set[str] | None = None
                 ) -> int:
        """Rebuild the golden records of ``touched`` masters from their open records and
        append one event each; how many events. ``fresh`` masters (version 0) hold only
        the batch's records."""
        fresh = fresh or set()
        linked = self._linked(conn, touched - fresh, items, now)
        versions = dict.fromkeys(fresh, 0)
        versions.update(select_in(conn, select(masters.c.id, masters.c.version),
                                  masters.c.id, touched - fresh))
        new_events, updates = [], []
        for master in sorted(touched):
            records = linked.get(master, [])
            golden = build_golden(records, self.priority)
            status = "active" if records else "retired"   # its last record moved away
            version = versions[master] + 1
            updates.append({"b_id": master, "golden": golden, "version": version,
                            "search_text": search_text(r.record for r in records),
                            "status": status})
            if master in created:
                new_events.append(events.customer_created(master, version, golden))
            elif unmerged and master in unmerged:
                new_events.append(events.customer_unmerged(master, version, status, golden,
                                                           unmerged[master]))
            elif master in merged_ids:
                new_events.append(events.customer_merged(master, version, golden,
                                                         merged_ids[master]))
            else:
                new_events.append(events.customer_updated(master, version, status, golden,
                                                          closed.get(master, ())))
        conn.execute(update(masters).where(masters.c.id == bindparam("b_id"))
                     .values(updated_at=now), updates)
        append(conn, new_events)
        return len(new_events)

    def _linked(self, conn: Connection, touched: set[str],
                items: list[_Item], now: datetime) -> dict[str, list[Linked]]:
        """Every record of ``touched`` masters: the batch's from memory, others read once."""
        mine = {i.row_id for i in items}
        linked: dict[str, list[Linked]] = {}
        rows = select_in(conn, select(_sr.id, _sr.source_system, _sr.source_id,
                                      _sr.content_hash, _sr.canonical, _sr.master_id,
                                      _sr.received_at).where(_sr.closed_at.is_(None)),
                         _sr.master_id, touched)
        for row in rows:
            if row.id not in mine:
                rec = CanonicalRecord.from_json(row.source_system, row.source_id,
                                                row.content_hash, row.canonical)
                linked.setdefault(row.master_id, []).append(
                    Linked(rec, (0, row.received_at, row.id), row.received_at))
        # The batch's records are their masters' newest: after every stored one, by id
        # among themselves (so no stored time is ever compared with another kind).
        for item in items:
            linked.setdefault(item.master, []).append(
                Linked(item.record, (1, 0, item.row_id), now))
        return linked


def _link(item: _Item, now: datetime) -> dict[str, Any]:
    decision = item.decision
    return {"source_record_id": item.row_id, "master_id": item.master,
            "decision": str(decision.kind) if decision else "new",
            "evidence": decision.evidence.to_json() if decision and decision.evidence else None,
            "decided_at": now}


def _row(item: _Item, now: datetime) -> dict[str, Any]:
    rec = item.record
    return {"source_system": rec.source_system, "source_id": rec.source_id,
            "content_hash": rec.content_hash, "raw_hash": rec.raw_hash,
            "location": item.raw.location, "raw": item.raw.storable(),
            "canonical": rec.to_json(), "master_id": item.master, "received_at": now,
            "profile": item.profile.to_json(), "closed_at": None}


def known_records(conn: Connection, refs: Sequence[tuple[str, str]] | dict[Any, Any]
                  ) -> list[Any]:
    """Stored source records among ``refs``: id, hashes and master."""
    query = select(_sr.id, _sr.source_system, _sr.source_id, _sr.content_hash,
                   _sr.raw_hash, _sr.master_id, _sr.closed_at)
    return select_refs(conn, query, _sr.source_system, _sr.source_id, list(refs))


def unchanged_raw(conn: Connection, source_system: str,
                  raw_hashes: dict[str, str]) -> set[str]:
    """Source ids whose stored record came from the same raw data and mapping: a rerun
    can skip them before mapping, standardizing and validating them again."""
    found = known_records(conn, [(source_system, sid) for sid in raw_hashes])
    return {row.source_id for row in found
            if row.raw_hash == raw_hashes[row.source_id] and row.closed_at is None}


def open_ids(conn: Connection, source_system: str) -> list[str]:
    """The ids of ``source_system``'s records whose link is open (for deletion checks)."""
    return list(conn.execute(select(_sr.source_id).where(
        _sr.source_system == source_system, _sr.closed_at.is_(None))).scalars())

