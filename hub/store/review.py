"""The review queue: pairs of records that matching links only with a person's word.

The matcher adds a pair when its score falls between the review and match thresholds
(``add_pairs``, evidence = ``Explanation.to_json()``); a data steward lists the open
pairs (``open_pairs``) and accepts or rejects each (``decide``). Decisions live here, in
the store, not in the matching model: a retrained model reads them back as constraints
(``rejected_between``: never link these again; ``accepted_between``: always link).

A pair is stored once, smaller ``source_records.id`` first, and is never added again
whatever its status: a rejected pair does not come back as a new open one. A pair whose
record is closed (gone at its source) is not listed; erasing a record deletes its pairs
(ON DELETE CASCADE).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import (
    Connection,
    bindparam,
    exists,
    func,
    insert,
    select,
    update,
)

from hub.errors import ConfigError
from hub.matching.profile import Profile, profile_of
from hub.records import CanonicalRecord
from hub.store.dialect import lock
from hub.store.master import MasterRepository
from hub.store.mastering import merge_masters
from hub.store.sql import select_in
from hub.store.tables import masters, review_pairs, source_records

_rp = review_pairs.c
Order = Literal["newest", "score"]
_ADDED = ("record_a", "record_b", "score", "evidence")


class ReviewError(ConfigError):
    """A review decision or explanation that cannot be made: an unknown pair or record, a
    pair already decided. A command-line problem (exit code 2)."""

    def __init__(self, problem: str, what: str = "the review decision") -> None:
        super().__init__(what, [problem])


@dataclass(frozen=True, slots=True)
class Side:
    """One record of a pair, with the customer it sits on now."""

    record_id: int
    source_system: str
    source_id: str
    name: str          # the record's own display name
    master_id: str
    master_name: str   # the golden record's display name

    @property
    def ref(self) -> str:
        return f"{self.source_system}/{self.source_id}"


@dataclass(frozen=True, slots=True)
class ReviewPair:
    id: int
    a: Side
    b: Side
    score: float | None
    evidence: dict[str, Any] | None   # as queued by the matcher
    created_at: datetime
    # Explanation.to_json(), field by field: the queued evidence when it is one, else
    # computed by the Hub with today's model (``Hub.review_list``).
    explanation: dict[str, Any] | None = None

    @property
    def same_master(self) -> bool:
        """Linked since the pair was queued (a later record joined them)."""
        return self.a.master_id == self.b.master_id

    def to_json(self) -> dict[str, Any]:
        def side(s: Side) -> dict[str, Any]:
            return {"record": s.ref, "name": s.name, "master": s.master_id,
                    "master_name": s.master_name}
        return {"id": self.id, "score": self.score, "a": side(self.a), "b": side(self.b),
                "same_master": self.same_master, "created_at": self.created_at.isoformat(),
                "evidence": self.evidence, "explanation": self.explanation}


@dataclass(frozen=True, slots=True)
class Decided:
    """What ``decide`` did: the pair's status, and the merge it made (survivor, absorbed)."""

    pair_id: int
    status: str
    merged: tuple[str, str] | None = None
    unchanged: bool = False   # the pair already had this decision


Pair = tuple[int, int, float | None, dict[str, Any] | None]


def add_pairs(conn: Connection, pairs: Iterable[Pair]) -> int:
    """Queue ``pairs`` of (record id, record id, score, evidence) as open; how many were new.

    Pairs already stored in any status are left as they are. Call it where the matcher
    holds the ``match`` lock (two writers adding one pair at once would otherwise meet
    the unique constraint on PostgreSQL).
    """
    rows: dict[tuple[int, int], dict[str, Any]] = {}
    now = datetime.now(UTC)
    for one, two, score, evidence in pairs:
        if one == two:
            continue
        a, b = min(one, two), max(one, two)
        rows.setdefault((a, b), {"p_record_a": a, "p_record_b": b, "p_score": score,
                                 "p_evidence": evidence, "p_created_at": now})
    if not rows:
        return 0
    # INSERT ... SELECT ... WHERE NOT EXISTS: the same statement on SQLite and PostgreSQL.
    absent = ~exists().where(_rp.record_a == bindparam("p_record_a"),
                             _rp.record_b == bindparam("p_record_b"))
    values = select(*(bindparam(f"p_{c}", type_=_rp[c].type) for c in _ADDED),
                    bindparam("p_status", "open", type_=_rp.status.type),
                    bindparam("p_created_at", type_=_rp.created_at.type)).where(absent)
    stmt = insert(review_pairs).from_select(
        [*_ADDED, "status", "created_at"], values).execution_options(preserve_rowcount=True)
    # executemany: both drivers sum the rows each statement inserted.
    return int(conn.execute(stmt, list(rows.values())).rowcount)


def open_pairs(conn: Connection, *, limit: int = 20, offset: int = 0,
               order: Order = "newest") -> list[ReviewPair]:
    """Open pairs whose records are both still open at their source, with both sides."""
    query = select(review_pairs).where(_rp.status == "open", *_both_open())
    if order == "score":
        query = query.order_by(_rp.score.desc().nulls_last(), _rp.id.desc())
    else:
        query = query.order_by(_rp.id.desc())
    rows = conn.execute(query.limit(limit).offset(offset)).all()
    sides = _sides(conn, {r.record_a for r in rows} | {r.record_b for r in rows})
    return [ReviewPair(r.id, sides[r.record_a], sides[r.record_b], r.score, r.evidence,
                       r.created_at, r.evidence if _explains(r.evidence) else None)
            for r in rows]


def _explains(evidence: Any) -> bool:
    return isinstance(evidence, dict) and isinstance(evidence.get("fields"), list)


def count_open(conn: Connection) -> int:
    query = select(func.count()).select_from(review_pairs).where(_rp.status == "open",
                                                                 *_both_open())
    return int(conn.execute(query).scalar_one())


def _both_open() -> list[Any]:
    sr = source_records.c
    return [_rp.record_a.in_(select(sr.id).where(sr.closed_at.is_(None))),
            _rp.record_b.in_(select(sr.id).where(sr.closed_at.is_(None)))]


def _sides(conn: Connection, record_ids: set[int]) -> dict[int, Side]:
    sr = source_records.c
    rows = select_in(conn, select(sr.id, sr.source_system, sr.source_id, sr.content_hash,
                                  sr.canonical, sr.master_id), sr.id, record_ids)
    golden = dict(select_in(conn, select(masters.c.id, masters.c.golden), masters.c.id,
                            {r.master_id for r in rows}))
    return {r.id: Side(r.id, r.source_system, r.source_id,
                       CanonicalRecord.from_json(r.source_system, r.source_id,
                                                 r.content_hash, r.canonical).display_name(),
                       r.master_id, (golden.get(r.master_id) or {}).get("display_name", ""))
            for r in rows}


def decide(conn: Connection, pair_id: int, accept: bool, by: str, *,
           repo: MasterRepository) -> Decided:
    """Accept or reject pair ``pair_id``, for ``by``.

    Accepting a pair whose records sit on two customers merges them (``merge_masters``,
    kind ``review``): the older id survives (ids are time-ordered). A pair already on one
    customer only records the decision. A decision is final: deciding a pair otherwise
    than before is an error (undo a merge with unmerge); the same decision again is no
    change.
    """
    lock(conn, "match")   # a merge moves records between masters, as matching does
    pair = conn.execute(select(review_pairs).where(_rp.id == pair_id)).first()
    if pair is None:
        raise ReviewError(f"there is no review pair {pair_id}")
    status = "accepted" if accept else "rejected"
    if pair.status == status:
        return Decided(pair_id, status, unchanged=True)
    if pair.status != "open":
        raise ReviewError(f"review pair {pair_id} was already {pair.status} by "
                          f"{pair.decided_by} at {pair.decided_at:%Y-%m-%d %H:%M} UTC")
    merged = _merge(conn, pair, by, repo) if accept else None
    conn.execute(update(review_pairs).where(_rp.id == pair_id).values(
        status=status, decided_at=datetime.now(UTC), decided_by=by[:100]))
    return Decided(pair_id, status, merged)


def _merge(conn: Connection, pair: Any, by: str, repo: MasterRepository
           ) -> tuple[str, str] | None:
    sr = source_records.c
    rows = {r.id: r for r in conn.execute(select(sr.id, sr.source_system, sr.source_id,
                                                 sr.master_id, sr.closed_at)
                                          .where(sr.id.in_([pair.record_a, pair.record_b])))}
    for row in rows.values():
        if row.closed_at is not None:
            raise ReviewError(f"review pair {pair.id} cannot be accepted: record "
                              f"{row.source_system}/{row.source_id} is gone from its source")
    one, two = rows[pair.record_a].master_id, rows[pair.record_b].master_id
    if one == two:
        return None
    survivor, absorbed = min(one, two), max(one, two)
    evidence = {"rule": "accepted in review", "review_pair": pair.id,
                "score": pair.score, "explanation": pair.evidence}
    merge_masters(conn, repo, survivor, absorbed, kind="review", evidence=evidence, by=by)
    return survivor, absorbed


def rejected_between(conn: Connection, record_ids: Sequence[int]) -> set[tuple[int, int]]:
    """Rejected pairs (smaller id first) touching any of ``record_ids``: cannot-link."""
    return _decided(conn, "rejected", record_ids)


def accepted_between(conn: Connection, record_ids: Sequence[int]) -> set[tuple[int, int]]:
    """Accepted pairs (smaller id first) touching any of ``record_ids``: must-link."""
    return _decided(conn, "accepted", record_ids)


def _decided(conn: Connection, status: str, record_ids: Sequence[int]
             ) -> set[tuple[int, int]]:
    query = select(_rp.record_a, _rp.record_b).where(_rp.status == status)
    found = select_in(conn, query, _rp.record_a, record_ids)
    found += select_in(conn, query, _rp.record_b, record_ids)
    return {(r.record_a, r.record_b) for r in found}


MAX_SIDE = 50   # records of one customer tried by ``peyvand explain``
_ASKED = "the comparison asked for"


def profiles(conn: Connection, ref: str) -> list[tuple[tuple[str, str], Profile]]:
    """The profiles ``peyvand explain`` compares for ``ref``: ``system/id`` is one source
    record (closed or not); anything else is a customer id (a merged-away id is its
    survivor), which gives its open records, oldest first, at most ``MAX_SIDE``."""
    sr = source_records.c
    query = select(sr.source_system, sr.source_id, sr.content_hash, sr.canonical, sr.profile)
    system, slash, source_id = ref.partition("/")
    if slash:
        rows = conn.execute(query.where(sr.source_system == system,
                                        sr.source_id == source_id)).all()
        if not rows:
            raise ReviewError(f"there is no source record {ref} in the store", _ASKED)
    else:
        master = _survivor(conn, ref)
        rows = conn.execute(query.where(sr.master_id == master, sr.closed_at.is_(None))
                            .order_by(sr.id).limit(MAX_SIDE)).all()
        if not rows:
            raise ReviewError(f"customer {ref} has no open source records", _ASKED)
    return [((r.source_system, r.source_id), _profile(r)) for r in rows]


def profiles_by_id(conn: Connection, record_ids: Iterable[int]) -> dict[int, Profile]:
    """The stored profiles of source records ``record_ids`` (recomputed when stale)."""
    sr = source_records.c
    rows = select_in(conn, select(sr.id, sr.source_system, sr.source_id, sr.content_hash,
                                  sr.canonical, sr.profile), sr.id, record_ids)
    return {r.id: _profile(r) for r in rows}


def _profile(row: Any) -> Profile:
    stored = Profile.from_json(row.profile)
    return stored or profile_of(CanonicalRecord.from_json(
        row.source_system, row.source_id, row.content_hash, row.canonical))


def _survivor(conn: Connection, master_id: str) -> str:
    current: str | None = master_id
    for _ in range(100):   # merges chain: A into B, later B into C
        row = conn.execute(select(masters.c.status, masters.c.merged_into)
                           .where(masters.c.id == current)).first()
        if row is None:
            raise ReviewError(f"there is no customer {master_id!r} (give a customer id or "
                              "SYSTEM/ID of a source record)", _ASKED)
        if row.status != "merged" or not row.merged_into:
            break
        current = row.merged_into
    assert current is not None
    return current


def verdict(conn: Connection, a: tuple[str, str], b: tuple[str, str]) -> str | None:
    """The reviewer's word on records ``a`` and ``b``, as a sentence, if they decided."""
    sr = source_records.c
    ids = [conn.execute(select(sr.id).where(sr.source_system == s, sr.source_id == i))
           .scalar_one() for s, i in (a, b)]
    row = conn.execute(select(review_pairs).where(
        _rp.record_a == min(ids), _rp.record_b == max(ids), _rp.status != "open")).first()
    if row is None:
        return None
    return (f"{row.status} in review (pair {row.id}, by {row.decided_by}, "
            f"{row.decided_at:%Y-%m-%d})")
