"""Candidates for a batch: the masters sharing a blocking key with its records.

A key held by more than ``max_key_records`` records (a company switchboard, a common
name with a common birth year in a large store) proposes nothing: each key is read with
a LIMIT, so finding candidates reads at most that many index entries per key, whatever
the size of the store.

A stored profile written by an older version (a store upgraded from 0.1, a changed
profile definition) gets it computed from its canonical record and written back, once.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, TextClause, bindparam, select, text, update

from hub.matching import Candidates, Member, Profile, profile_of
from hub.records import CanonicalRecord
from hub.store.sql import select_in
from hub.store.tables import blocking_keys, review_pairs, source_records

_sr = source_records.c
_bk = blocking_keys.c
_KEYS_PER_QUERY = 200   # SQLite allows 500 terms in one compound SELECT

Ref = tuple[str, str]


def load_candidates(conn: Connection, profiles: Iterable[Profile], skip: set[int],
                    max_key_records: int = 50, key_prefixes: tuple[str, ...] = ()
                    ) -> tuple[Candidates, dict[Ref, int]]:
    """Candidates for records with ``profiles``, and the row id of every member; records
    with ids in ``skip`` (the batch's own, being matched again) are left out."""
    index = key_index(conn, sorted({k for p in profiles for k in p.lookup_keys(key_prefixes)}),
                      max_key_records)
    masters = set().union(*index.values()) if index else set()
    members: dict[str, list[Member]] = {m: [] for m in masters}
    ids: dict[Ref, int] = {}
    stale: list[int] = []
    rows = select_in(conn, select(_sr.id, _sr.master_id, _sr.source_system, _sr.source_id,
                                  _sr.profile).where(_sr.closed_at.is_(None)),
                     _sr.master_id, masters)
    for row in rows:
        if row.id in skip:
            continue
        ids[(row.source_system, row.source_id)] = row.id
        profile = Profile.from_json(row.profile)
        if profile is None:
            stale.append(row.id)
        else:
            members[row.master_id].append(Member((row.source_system, row.source_id), profile))
    for master, member in _refresh_profiles(conn, stale):
        members[master].append(member)
    candidates = Candidates(index, members, established=masters,
                            max_key_masters=max_key_records, key_prefixes=key_prefixes)
    candidates.rejected = _rejected(conn, ids, skip)
    return candidates, ids


def key_index(conn: Connection, keys: list[str], limit: int) -> dict[str, set[str]]:
    """Key -> masters holding it, for the keys held by at most ``limit`` records."""
    index: dict[str, set[str]] = {}
    for start in range(0, len(keys), _KEYS_PER_QUERY):
        chunk = keys[start:start + _KEYS_PER_QUERY]
        params: dict[str, Any] = {f"k{n}": key for n, key in enumerate(chunk)}
        params["lim"] = limit + 1
        rows: dict[str, list[str]] = {}
        for key, master in conn.execute(_limited_union(len(chunk)), params):
            rows.setdefault(key, []).append(master)
        for key, held in rows.items():
            if len(held) <= limit:
                index[key] = set(held)
    return index


@functools.lru_cache(maxsize=64)
def _limited_union(n: int) -> TextClause:
    """One statement reading up to :lim rows of each of n keys, each through the index
    (a textual statement: building it with the expression language cost more than the
    queries themselves)."""
    return text(" UNION ALL ".join(
        f"SELECT * FROM (SELECT CAST(:k{i} AS VARCHAR(200)) AS k, master_id "
        f"FROM blocking_keys WHERE key = :k{i} LIMIT :lim) AS t{i}" for i in range(n)))


def _rejected(conn: Connection, ids: dict[Ref, int], skip: set[int]) -> set[frozenset[Ref]]:
    """Pairs a reviewer rejected among the candidates and the batch's known records."""
    wanted = set(ids.values()) | skip
    rp = review_pairs.c
    # Usually no pair was ever rejected: one index probe instead of reading by record.
    if not wanted or conn.execute(select(rp.id).where(rp.status == "rejected").limit(1)
                                  ).first() is None:
        return set()
    pairs = [(r.record_a, r.record_b) for r in select_in(
        conn, select(rp.record_a, rp.record_b).where(rp.status == "rejected"), rp.record_a,
        wanted)]
    pairs += [(r.record_a, r.record_b) for r in select_in(
        conn, select(rp.record_a, rp.record_b).where(rp.status == "rejected"), rp.record_b,
        wanted)]
    if not pairs:
        return set()
    refs = {r.id: (r.source_system, r.source_id) for r in select_in(
        conn, select(_sr.id, _sr.source_system, _sr.source_id), _sr.id,
        {i for p in pairs for i in p})}
    return {frozenset((refs[a], refs[b])) for a, b in pairs if a in refs and b in refs}


def _refresh_profiles(conn: Connection, ids: list[int]) -> list[tuple[str, Member]]:
    if not ids:
        return []
    rows = select_in(conn, select(_sr.id, _sr.master_id, _sr.source_system, _sr.source_id,
                                  _sr.content_hash, _sr.canonical), _sr.id, ids)
    out: list[tuple[str, Member]] = []
    updates: list[dict[str, Any]] = []
    for row in rows:
        profile = profile_of(CanonicalRecord.from_json(row.source_system, row.source_id,
                                                       row.content_hash, row.canonical))
        out.append((row.master_id, Member((row.source_system, row.source_id), profile)))
        updates.append({"b_id": row.id, "profile": profile.to_json()})
    conn.execute(update(source_records).where(_sr.id == bindparam("b_id"))
                 .values(profile=bindparam("profile")), updates)
    return out
