"""Reading what matching needs for a batch: candidate masters and their records' profiles.

Three bulk reads, whatever the size of the store: the masters holding any of the batch's
blocking keys (an indexed lookup), the stored match profiles of their records (small
JSON, not the canonical records), and which of those masters existed before the batch.
A record whose stored profile is missing or of another version (a store upgraded from
0.1, a changed profile definition) gets it computed from its canonical record and
written back, once.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from hub.matching import Candidates, Member, Profile, profile_of
from hub.records import CanonicalRecord
from hub.store.sql import select_in
from hub.store.tables import blocking_keys, source_records

_sr = source_records.c


def load_candidates(conn: Connection, profiles: Iterable[Profile],
                    skip: set[int]) -> Candidates:
    """Candidates for records with ``profiles``; records with ids in ``skip`` (the
    batch's own, being matched again) are left out of the masters' members."""
    index: dict[str, set[str]] = {}
    keys = {k for p in profiles for k in p.all_keys()}
    bk = blocking_keys.c
    for key, master in select_in(conn, select(bk.key, bk.master_id), bk.key, keys):
        index.setdefault(key, set()).add(master)
    masters = set().union(*index.values()) if index else set()
    members: dict[str, list[Member]] = {m: [] for m in masters}
    stale: list[int] = []
    rows = select_in(conn, select(_sr.id, _sr.master_id, _sr.source_system, _sr.source_id,
                                  _sr.profile).where(_sr.closed_at.is_(None)),
                     _sr.master_id, masters)
    for row in rows:
        if row.id in skip:
            continue
        profile = Profile.from_json(row.profile)
        if profile is None:
            stale.append(row.id)
        else:
            members[row.master_id].append(Member((row.source_system, row.source_id), profile))
    for master, member in _refresh_profiles(conn, stale):
        members[master].append(member)
    return Candidates(index, members, established=masters)


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
