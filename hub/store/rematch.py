"""Re-matching the whole master after a model or rule change, as a diff, then applied.

Every open record is matched again from nothing, in arrival order, by the same planner
as incremental matching (``hub.matching.plan_batch``), with the reviewers' rejections
kept. The new clusters are then laid over the current masters: a cluster keeps the id of
the master most of its records are on (the oldest among equals) so ids stay stable
where the cluster is the same; a master none of whose records keeps its id is absorbed
by the cluster that took most of them; a cluster that keeps no id is a new master split
off. ``peyvand rematch --dry-run`` prints the diff; without it the diff is applied in one
transaction with merge history and events.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from hub.matching import Candidates, Incoming, Profile, plan_batch, profile_of
from hub.records import CanonicalRecord
from hub.store.history import MergeRecord, record_merges
from hub.store.master import MasterRepository, insert_masters, new_master_id
from hub.store.merging import absorb_masters
from hub.store.sql import chunks, select_in
from hub.store.tables import blocking_keys, links, review_pairs
from hub.store.tables import source_records as sr

Ref = tuple[str, str]


@dataclass
class RematchDiff:
    """What re-matching would change.

    Args:
        moves: record id -> (its master now, its master after); placeholders ``new:N``
            name masters to create.
        merges: survivor -> masters it absorbs.
        splits: master -> the new masters its records split into.
        records: how many open records were matched.
        stale: records whose stored profile (and so blocking keys) came from another
            version: applying the diff writes them anew (a store upgraded from 0.3).
    """

    moves: dict[int, tuple[str, str]] = field(default_factory=dict)
    merges: dict[str, list[str]] = field(default_factory=dict)
    splits: dict[str, list[str]] = field(default_factory=dict)
    refs: dict[int, Ref] = field(default_factory=dict)
    records: int = 0
    stale: dict[int, Profile] = field(default_factory=dict)   # profiles of older versions

    @property
    def unchanged(self) -> bool:
        return not self.moves

    def to_json(self) -> dict[str, Any]:
        return {"records": self.records, "moved": len(self.moves), "rekeyed": len(self.stale),
                "merges": self.merges, "splits": self.splits,
                "moves": [{"record": "/".join(self.refs[r]), "from": a, "to": b}
                          for r, (a, b) in sorted(self.moves.items())]}


def open_profiles(conn: Connection, stale: dict[int, Profile] | None = None
                  ) -> Iterator[tuple[int, Ref, str, Profile]]:
    """(record id, ref, master, profile) of every open customer record, oldest first;
    records whose stored profile is of another version are also put in ``stale``."""
    query = (select(sr.c.id, sr.c.source_system, sr.c.source_id, sr.c.master_id,
                    sr.c.profile, sr.c.content_hash, sr.c.canonical)
             .where(sr.c.closed_at.is_(None)).order_by(sr.c.id)
             .execution_options(yield_per=5000))
    for row in conn.execute(query):
        profile = Profile.from_json(row.profile)
        if profile is None:
            profile = profile_of(CanonicalRecord.from_json(
                row.source_system, row.source_id, row.content_hash, row.canonical))
            if stale is not None:
                stale[row.id] = profile
        yield row.id, (row.source_system, row.source_id), row.master_id, profile


def plan_rematch(conn: Connection, repo: MasterRepository) -> RematchDiff:
    """The clusters the current matcher makes of every open record, against today's."""
    stale: dict[int, Profile] = {}
    rows = list(open_profiles(conn, stale))
    diff = RematchDiff(refs={rid: ref for rid, ref, _, _ in rows}, records=len(rows),
                       stale=stale)
    labels = itertools.count(1)
    plan = plan_batch([Incoming(ref, p) for _, ref, _, p in rows],
                      Candidates(rejected=_rejected(conn, diff.refs),
                                 max_key_masters=repo.max_key_records,
                                 key_prefixes=repo.key_prefixes),
                      matcher=repo.matcher, new_id=lambda: f"T{next(labels):09d}",
                      contradiction=repo.contradiction)
    clusters: dict[str, list[int]] = {}
    for (rid, _, _, _), decision in zip(rows, plan.decisions, strict=True):
        clusters.setdefault(decision.master, []).append(rid)
    current = {rid: master for rid, _, master, _ in rows}
    _lay_over(diff, clusters, current)
    return diff


def _lay_over(diff: RematchDiff, clusters: dict[str, list[int]],
              current: dict[int, str]) -> None:
    """Give each new cluster the id of the master most of its records are on."""
    taken: set[str] = set()
    fresh = itertools.count(1)
    owner: dict[str, str] = {}   # cluster label -> master id (or new:N)
    for label, rids in sorted(clusters.items(), key=lambda c: (-len(c[1]), min(c[1]))):
        votes = Counter(current[r] for r in rids)
        best = sorted((m for m in votes if m not in taken), key=lambda m: (-votes[m], m))
        owner[label] = best[0] if best else f"new:{next(fresh)}"
        taken.add(owner[label])
    for label, rids in clusters.items():
        for rid in rids:
            if current[rid] != owner[label]:
                diff.moves[rid] = (current[rid], owner[label])
    # Where each master's moved records went, read once (scanning every move for each
    # master took hours at a million records).
    went: dict[str, list[str]] = {}
    for source, target in diff.moves.values():
        went.setdefault(source, []).append(target)
    for master in sorted(went.keys() - taken):
        # Every record left it: absorbed by the master that took most of them.
        survivor = Counter(went[master]).most_common(1)[0][0]
        diff.merges.setdefault(survivor, []).append(master)
    for master in sorted(went.keys() & taken):
        if parts := sorted({to for to in went[master] if to.startswith("new:")}):
            diff.splits[master] = parts


def _rejected(conn: Connection, refs: dict[int, Ref]) -> set[frozenset[Ref]]:
    rp = review_pairs.c
    rows = conn.execute(select(rp.record_a, rp.record_b).where(rp.status == "rejected"))
    return {frozenset((refs[a], refs[b])) for a, b in rows if a in refs and b in refs}


def apply_rematch(conn: Connection, repo: MasterRepository, diff: RematchDiff) -> int:
    """Carry out ``diff``: create, move, merge, record history, rebuild; events written."""
    _rekey(conn, diff)
    if diff.unchanged:
        return 0
    now = datetime.now(UTC)
    new_ids = {p: new_master_id() for p in sorted({to for _, to in diff.moves.values()
                                                   if to.startswith("new:")})}
    insert_masters(conn, list(new_ids.values()), now)
    moves = {rid: (a, new_ids.get(b, b)) for rid, (a, b) in diff.moves.items()}
    rows = [{"b_id": rid, "b_master": b} for rid, (_, b) in sorted(moves.items())]
    conn.execute(update(sr).where(sr.c.id == bindparam("b_id"))
                 .values(master_id=bindparam("b_master")), rows)
    conn.execute(update(blocking_keys).where(blocking_keys.c.source_record_id ==
                                             bindparam("b_id"))
                 .values(master_id=bindparam("b_master")), rows)
    why = {"rule": "rematch", "model": f"{repo.matcher.model.source} "
                                       f"(version {repo.matcher.model.version})"}
    conn.execute(insert(links), [
        {"source_record_id": rid, "master_id": b, "decision": "rematched",
         "evidence": why, "decided_at": now} for rid, (_, b) in sorted(moves.items())])
    absorbed = _absorb(conn, diff, moves, why, now)
    touched = {m for pair in moves.values() for m in pair} - {
        m for gone in absorbed.values() for m in gone}   # they keep status merged
    return repo.rebuild(conn, touched, created=new_ids.values(), merged=absorbed, now=now)


def _rekey(conn: Connection, diff: RematchDiff) -> None:
    """Write the profiles and blocking keys of records stored by an older version, so
    that new records find them by every key this version makes."""
    if not diff.stale:
        return
    ids = sorted(diff.stale)
    masters_of = dict(select_in(conn, select(sr.c.id, sr.c.master_id), sr.c.id, ids))
    for chunk in chunks(ids):
        conn.execute(delete(blocking_keys).where(blocking_keys.c.source_record_id.in_(chunk)))
    conn.execute(update(sr).where(sr.c.id == bindparam("b_id"))
                 .values(profile=bindparam("b_profile")),
                 [{"b_id": i, "b_profile": diff.stale[i].to_json()} for i in ids])
    keys = [{"key": k, "source_record_id": i, "master_id": masters_of[i]}
            for i in ids for k in diff.stale[i].all_keys()]
    if keys:
        conn.execute(insert(blocking_keys), keys)


def _absorb(conn: Connection, diff: RematchDiff, moves: dict[int, tuple[str, str]],
            why: dict[str, Any], now: datetime) -> dict[str, list[str]]:
    """Mark the masters every record left as merged, with history; what they still hold
    (interactions, closed records, earlier merges) follows their survivor."""
    into = {master: survivor for survivor, gone in diff.merges.items() for master in gone}
    # Only open records are matched again: the absorbed masters' closed ones, if any,
    # follow the survivor here, as in every other merge, and are in its history.
    left = absorb_masters(conn, into, now)
    taken: dict[tuple[str, str], list[int]] = {}   # (from, to) -> records, read once
    for rid, pair in moves.items():
        taken.setdefault(pair, []).append(rid)
    record_merges(conn, [MergeRecord(survivor, master, [
        *taken.get((master, survivor), ()), *left[master]], "rematch", why, now)
        for master, survivor in into.items()])
    return {survivor: list(gone) for survivor, gone in diff.merges.items()}
