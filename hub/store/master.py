"""Ingest a batch of canonical records into the master: match, link, merge, publish.

One call runs inside the caller's transaction, so the source records, the links, the
golden records, the outbox events and the checkpoint commit together or not at all.
Work is done in bulk per batch: one query for the records already known, one for the
blocking keys, one for the candidates' records, then bulk writes.
"""

from __future__ import annotations

import secrets
import time
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, text, update

from hub.matching.compare import MatchRules, joins, national_codes
from hub.matching.profile import Profile, profile_of
from hub.records import CanonicalRecord, RawRecord
from hub.store.outbox import NewEvent, append
from hub.store.tables import blocking_keys, masters, source_records
from hub.survivorship import Linked, build_golden, search_text

_MATCH_LOCK_KEY = zlib.crc32(b"peyvand.master.match")
_CHUNK = 500  # bound IN lists: SQLite allows 32766 parameters, keep statements small


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
    merges: list[tuple[str, list[str]]] = field(default_factory=list)
    events: int = 0


@dataclass
class _Item:
    record: CanonicalRecord
    raw: RawRecord
    profile: Profile
    row_id: int | None = None          # existing source_records.id
    old_master: str | None = None
    master: str = ""


class MasterIngest:
    """Links canonical records to masters (matching rules + survivorship settings)."""

    def __init__(self, rules: MatchRules, priority: Sequence[str]) -> None:
        self.rules = rules
        self.priority = tuple(priority)

    def ingest(self, conn: Connection,
               batch: Sequence[tuple[CanonicalRecord, RawRecord]]) -> BatchOutcome:
        """Match and link ``batch`` inside the caller's transaction.

        Matching reads candidates, then writes links that depend on them; two workers
        doing that at once could each create a master for the same person. On
        PostgreSQL a transaction-scoped advisory lock makes matching one batch at a time
        (the stateless stages before it still run in parallel); on SQLite the caller's
        ``store.engine.writing`` transaction holds the write lock from its BEGIN.
        """
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MATCH_LOCK_KEY})
        now = datetime.now(UTC)
        out = BatchOutcome()
        latest = {(c.source_system, c.source_id): (c, r) for c, r in batch}  # last one wins
        known = _known(conn, latest)
        items: list[_Item] = []
        rehash: list[dict[str, Any]] = []
        for ref, (canon, raw) in latest.items():
            row = known.get(ref)
            if row and row["content_hash"] == canon.content_hash:
                out.unchanged += 1
                if row["raw_hash"] != canon.raw_hash:   # same meaning, other raw form
                    rehash.append({"b_id": row["id"], "raw_hash": canon.raw_hash,
                                   "raw": dict(raw.data), "location": raw.location})
                continue
            item = _Item(canon, raw, profile_of(canon))
            if row:
                item.row_id, item.old_master = row["id"], row["master_id"]
            items.append(item)
        out.unchanged += len(batch) - len(latest)
        if rehash:
            conn.execute(update(source_records).where(source_records.c.id == bindparam("b_id")),
                         rehash)
        if not items:
            return out
        changed_ids = {i.row_id for i in items if i.row_id is not None}
        for chunk in _chunks(sorted(changed_ids)):
            conn.execute(delete(blocking_keys).where(blocking_keys.c.source_record_id.in_(chunk)))
        index, profiles, created_at = _candidates(conn, items, changed_ids)

        redirect: dict[str, str] = {}   # merged master -> survivor

        def find(m: str) -> str:
            while m in redirect:
                m = redirect[m]
            return m

        for item in items:
            hits = {find(m) for k in item.profile.all_keys() for m in index.get(k, ())}
            matched = [m for m in hits if joins(item.profile, profiles[m], self.rules)]
            if not matched:
                master = new_master_id()
                while master in profiles:   # same millisecond, same random: vanishingly rare
                    master = new_master_id()
                profiles[master] = []
                out.created.append(master)
            else:
                # The oldest master survives; ids are time-ordered, new ones sort last.
                master, *others = sorted(matched, key=lambda m: (m not in created_at, m))
                codes = national_codes([*profiles[master], item.profile])
                merged = []
                for other in others:
                    other_codes = national_codes(profiles[other])
                    if codes and other_codes and codes.isdisjoint(other_codes):
                        continue   # two people with their own national codes stay apart
                    codes |= other_codes
                    redirect[other] = master
                    profiles[master] += profiles.pop(other)
                    merged.append(other)
                out.merges += [(master, merged)] if merged else []
                if master != item.old_master:
                    out.linked += 1
            item.master = master
            profiles[master].append(item.profile)
            for key in item.profile.all_keys():
                index.setdefault(key, set()).add(master)

        for item in items:
            item.master = find(item.master)
        merges = _collapse(out.merges, find, existing=set(created_at))
        out.merges = merges
        out.added = sum(1 for i in items if i.row_id is None)
        out.changed = len(items) - out.added
        created = [m for m in out.created if m not in redirect]
        out.created = created
        self._write(conn, items, created, merges, now)
        touched = ({i.master for i in items} | {find(i.old_master) for i in items if i.old_master}
                   | {s for s, _ in merges})
        out.events = self._rebuild(conn, touched, set(created), merges, now)
        return out

    def _write(self, conn: Connection, items: list[_Item], created: list[str],
               merges: list[tuple[str, list[str]]], now: datetime) -> None:
        if created:
            conn.execute(insert(masters), [
                {"id": m, "status": "active", "version": 0, "golden": {}, "search_text": "",
                 "created_at": now, "updated_at": now} for m in created])
        for survivor, others in merges:
            for chunk in _chunks(others):
                conn.execute(update(source_records).where(source_records.c.master_id.in_(chunk))
                             .values(master_id=survivor))
                conn.execute(update(blocking_keys).where(blocking_keys.c.master_id.in_(chunk))
                             .values(master_id=survivor))
                conn.execute(update(masters).where(masters.c.id.in_(chunk))
                             .values(status="merged", merged_into=survivor, updated_at=now,
                                     version=masters.c.version + 1))
        new = [i for i in items if i.row_id is None]
        if new:
            ids = conn.execute(
                insert(source_records).returning(source_records.c.id,
                                                 sort_by_parameter_order=True),
                [_row(i, now) for i in new]).scalars().all()
            for item, row_id in zip(new, ids, strict=True):
                item.row_id = row_id
        changed = [{"b_id": i.row_id, **_row(i, now)} for i in items if i.old_master is not None]
        if changed:
            conn.execute(update(source_records).where(source_records.c.id == bindparam("b_id")),
                         changed)
        keys = [{"key": k, "source_record_id": i.row_id, "master_id": i.master}
                for i in items for k in dict.fromkeys(i.profile.all_keys())]
        if keys:
            conn.execute(insert(blocking_keys), keys)

    def _rebuild(self, conn: Connection, touched: set[str], created: set[str],
                 merges: list[tuple[str, list[str]]], now: datetime) -> int:
        """Recompute golden records of ``touched`` masters and write their events."""
        linked: dict[str, list[Linked]] = {m: [] for m in touched}
        versions: dict[str, int] = {}
        sr = source_records.c
        for chunk in _chunks(sorted(touched)):
            for row in conn.execute(select(sr.id, sr.source_system, sr.source_id,
                                           sr.content_hash, sr.canonical, sr.master_id,
                                           sr.received_at).where(sr.master_id.in_(chunk))):
                rec = CanonicalRecord.from_json(row.source_system, row.source_id,
                                                row.content_hash, row.canonical)
                linked[row.master_id].append(Linked(rec, (row.received_at, row.id)))
            versions.update((r.id, r.version) for r in conn.execute(
                select(masters.c.id, masters.c.version).where(masters.c.id.in_(chunk))))
        merged_into = dict(merges)
        events, updates = [], []
        for master in sorted(touched):
            records = linked[master]
            golden = build_golden(records, self.priority)
            status = "active" if records else "retired"   # its last record moved away
            version = versions[master] + 1
            updates.append({"b_id": master, "golden": golden, "version": version,
                            "search_text": search_text(records), "status": status})
            data = {"master_id": master, "status": status, "golden": golden}
            if master in created:
                kind = "customer.created"
            elif master in merged_into:
                kind = "customer.merged"
                data["merged"] = merged_into[master]
            else:
                kind = "customer.updated"
            events.append(NewEvent(kind, master, version, data))
        conn.execute(update(masters).where(masters.c.id == bindparam("b_id"))
                     .values(updated_at=now), updates)   # one executemany for the batch
        append(conn, events)
        return len(events)


def _candidates(conn: Connection, items: list[_Item], skip: set[int],
                ) -> tuple[dict[str, set[str]], dict[str, list[Profile]], dict[str, Any]]:
    """Masters sharing a blocking key with the batch: key -> masters, each master's
    record profiles (but those of records in ``skip``, being re-matched), creation times."""
    index: dict[str, set[str]] = {}
    all_keys = {k for i in items for k in i.profile.all_keys()}
    for chunk in _chunks(sorted(all_keys)):
        for key, master in conn.execute(select(blocking_keys.c.key, blocking_keys.c.master_id)
                                        .where(blocking_keys.c.key.in_(chunk))):
            index.setdefault(key, set()).add(master)
    candidates = set().union(*index.values()) if index else set()
    profiles: dict[str, list[Profile]] = {m: [] for m in candidates}
    created_at: dict[str, Any] = {}
    sr = source_records.c
    for chunk in _chunks(sorted(candidates)):
        for row in conn.execute(select(sr.master_id, sr.id, sr.source_system, sr.source_id,
                                       sr.content_hash, sr.canonical)
                                .where(sr.master_id.in_(chunk))):
            if row.id not in skip:
                rec = CanonicalRecord.from_json(row.source_system, row.source_id,
                                                row.content_hash, row.canonical)
                profiles[row.master_id].append(profile_of(rec))
        created_at.update((r.id, r.created_at) for r in conn.execute(
            select(masters.c.id, masters.c.created_at).where(masters.c.id.in_(chunk))))
    return index, profiles, created_at


def _row(item: _Item, now: datetime) -> dict[str, Any]:
    rec = item.record
    return {"source_system": rec.source_system, "source_id": rec.source_id,
            "content_hash": rec.content_hash, "raw_hash": rec.raw_hash,
            "location": item.raw.location,
            "raw": dict(item.raw.data), "canonical": rec.to_json(),
            "master_id": item.master, "received_at": now}


def unchanged_raw(conn: Connection, source_system: str,
                  raw_hashes: dict[str, str]) -> set[str]:
    """Source ids whose stored record came from the same raw data and mapping: a rerun
    can skip them before mapping, standardizing and validating them again."""
    known = _known(conn, [(source_system, sid) for sid in raw_hashes])
    return {sid for (_, sid), row in known.items() if row["raw_hash"] == raw_hashes[sid]}


def _known(conn: Connection, refs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Any]:
    # One IN list per source system: SQLite scans the table for a row-value IN (...).
    by_system: dict[str, list[str]] = {}
    for system, source_id in refs:
        by_system.setdefault(system, []).append(source_id)
    found: dict[tuple[str, str], Any] = {}
    sr = source_records.c
    for system, ids in by_system.items():
        for chunk in _chunks(ids):
            for row in conn.execute(select(sr.id, sr.source_system, sr.source_id,
                                           sr.content_hash, sr.raw_hash, sr.master_id)
                                    .where(sr.source_system == system, sr.source_id.in_(chunk))):
                found[(row.source_system, row.source_id)] = row._mapping
    return found


def _collapse(merges: list[tuple[str, list[str]]], find: Any,
              existing: set[str]) -> list[tuple[str, list[str]]]:
    """Merges of masters that existed before the batch, once per final survivor.

    Merges in a batch can chain (A<-B, then C<-A); a master created and merged within
    the same batch was never stored nor announced, so it is no merge to report.
    """
    by_survivor: dict[str, list[str]] = {}
    for _, others in merges:
        for other in others:
            if other in existing:
                by_survivor.setdefault(find(other), []).append(other)
    return [(s, sorted(o)) for s, o in sorted(by_survivor.items())]


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start:start + _CHUNK]
