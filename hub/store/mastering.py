"""A data steward's corrections of the master: manual merge and unmerge.

Both run inside the caller's unit of work, under the match lock, and publish like an
automatic merge does. A merge moves the absorbed master's records, blocking keys and
interactions to the survivor and writes a ``merge_history`` row naming the records it
moved. ``unmerge`` undoes one such row: the records it moved that are still open and
still on the survivor go back to the absorbed id, which becomes active again under the
same id. A record of the merge that has since closed or moved to another master stays
where it is, and the outcome lists it (``not_restored``): the master is restored as far
as its records still allow, never from a guess.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from hub.errors import MasteringRefused
from hub.store.dialect import lock
from hub.store.history import MergeKind, MergeRecord, merge_by_id, merges_of, record_merges
from hub.store.master import MasterRepository
from hub.store.merging import absorb_masters
from hub.store.sql import chunks
from hub.store.tables import blocking_keys, interactions, links, masters, merge_history
from hub.store.tables import source_records as _records

_sr, _m = _records.c, masters.c


@dataclass
class Unmerged:
    """What an unmerge did."""

    merge_id: int
    survivor: str
    restored: str
    records: int = 0            # source records put back on ``restored``
    interactions: int = 0       # interactions that followed them
    not_restored: list[str] = field(default_factory=list)   # "system/id: why"


def merge_masters(conn: Connection, repo: MasterRepository, survivor: str, absorbed: str,
                  *, kind: MergeKind = "manual", evidence: dict[str, Any] | None = None,
                  by: str = "", force: bool = False) -> MergeRecord:
    """Merge active master ``absorbed`` into active master ``survivor``.

    Refused (MasteringRefused) when either is not active, they are the same, or their
    golden records hold two different national codes, unless ``force``.
    """
    lock(conn, "match")
    if survivor == absorbed:
        raise MasteringRefused(f"cannot merge customer {survivor} into itself")
    rows = {r.id: r for r in conn.execute(select(masters).where(_m.id.in_([survivor,
                                                                          absorbed])))}
    for master_id in (survivor, absorbed):
        _require_active(rows.get(master_id), master_id, "merge")
    codes = [set(_national_codes(rows[m].golden)) for m in (survivor, absorbed)]
    if codes[0] and codes[1] and not codes[0] & codes[1] and not force:
        raise MasteringRefused(
            f"customers {survivor} and {absorbed} have different national codes "
            "(field nationalCode), so they are most likely two people; merge them only "
            "if you are sure (--force)")
    now = datetime.now(UTC)
    why = {"rule": f"{kind} merge", "by": by, "merged_from": absorbed, **(evidence or {})}
    record_ids = absorb_masters(conn, {absorbed: survivor}, now)[absorbed]
    if record_ids:
        conn.execute(insert(links), [
            {"source_record_id": rid, "master_id": survivor, "decision": "merged",
             "evidence": why, "decided_at": now} for rid in record_ids])
    merge = MergeRecord(survivor, absorbed, record_ids, kind, why, now)
    record_merges(conn, [merge])
    repo.rebuild(conn, {survivor}, merged={survivor: [absorbed]}, now=now)
    return merge


def unmerge(conn: Connection, repo: MasterRepository, target: str | int) -> Unmerged:
    """Undo the merge ``target`` names: a merge_history id, the id of a master that was
    merged away (its own merge), or a survivor's id (the newest merge into it not undone).
    """
    lock(conn, "match")
    merge = _find_merge(conn, target)
    assert merge.id is not None
    rows = {r.id: r for r in conn.execute(select(masters).where(
        _m.id.in_([merge.survivor, merge.absorbed])))}
    kept = rows.get(merge.survivor)
    if kept is not None and kept.status == "merged":
        raise MasteringRefused(
            f"cannot undo merge {merge.id}: its survivor {merge.survivor} was merged into "
            f"{kept.merged_into} since; undo that merge first "
            f"(`peyvand master unmerge {merge.survivor}`)")
    _require_active(kept, merge.survivor, "unmerge")
    gone = rows.get(merge.absorbed)
    if gone is None or gone.status != "merged" or gone.merged_into != merge.survivor:
        raise MasteringRefused(
            f"customer {merge.absorbed} no longer resolves to {merge.survivor} (it is "
            f"{gone.status if gone is not None else 'unknown'}), so merge {merge.id} cannot "
            "be undone")
    out = Unmerged(merge.id, merge.survivor, merge.absorbed)
    back = _restorable(conn, merge, out)
    if not back:
        raise MasteringRefused(
            f"none of the records merge {merge.id} moved from {merge.absorbed} is still "
            f"open on {merge.survivor} ({'; '.join(out.not_restored)}): nothing to restore")
    now = datetime.now(UTC)
    _move_back(conn, merge, back, out)
    conn.execute(update(masters).where(_m.id == merge.absorbed).values(
        status="active", merged_into=None, updated_at=now))
    conn.execute(update(merge_history).where(merge_history.c.id == merge.id)
                 .values(undone_at=now))
    why = {"rule": "unmerge", "merge": merge.id, "unmerged_from": merge.survivor}
    conn.execute(insert(links), [
        {"source_record_id": rid, "master_id": merge.absorbed, "decision": "unmerged",
         "evidence": why, "decided_at": now} for rid in back])
    repo.rebuild(conn, {merge.survivor, merge.absorbed},
                 unmerged={merge.absorbed: merge.survivor}, now=now)
    return out


def _find_merge(conn: Connection, target: str | int) -> MergeRecord:
    if isinstance(target, int) or target.isdigit():
        merge = merge_by_id(conn, int(target))
        if merge is None:
            raise MasteringRefused(f"there is no merge {target} in the merge history")
        if merge.undone_at is not None:
            raise MasteringRefused(f"merge {target} was already undone at "
                                   f"{merge.undone_at:%Y-%m-%d %H:%M} UTC")
        return merge
    open_ = [m for m in merges_of(conn, target) if m.undone_at is None]
    # A merged-away id names its own merge; an active one the newest merge into it.
    mine = [m for m in open_ if m.absorbed == target] or [m for m in open_
                                                           if m.survivor == target]
    if not mine:
        raise MasteringRefused(f"customer {target} has no merge to undo in the merge "
                               "history (`peyvand master history ID` lists its merges)")
    return mine[0]


def _restorable(conn: Connection, merge: MergeRecord, out: Unmerged) -> list[int]:
    """The merge's records still open on the survivor; the others noted in ``out``."""
    rows: list[Any] = []
    for chunk in chunks(merge.record_ids):
        rows += conn.execute(select(_sr.id, _sr.source_system, _sr.source_id, _sr.master_id,
                                    _sr.closed_at).where(_sr.id.in_(chunk))).all()
    back = []
    for row in rows:
        ref = f"{row.source_system}/{row.source_id}"
        if row.closed_at is not None:
            out.not_restored.append(f"{ref}: closed (gone from its source)")
        elif row.master_id != merge.survivor:
            out.not_restored.append(f"{ref}: moved to {row.master_id} since")
        else:
            back.append(row.id)
    missing = len(merge.record_ids) - len(rows)
    if missing:
        out.not_restored.append(f"{missing} record(s) erased or deleted since")
    return sorted(back)


def _move_back(conn: Connection, merge: MergeRecord, back: Sequence[int],
               out: Unmerged) -> None:
    """Records, their blocking keys, the interactions their keys attached, and the
    masters merged into the absorbed one before, all back on the absorbed id."""
    for chunk in chunks(list(back)):
        conn.execute(update(_records).where(_sr.id.in_(chunk))
                     .values(master_id=merge.absorbed))
        conn.execute(update(blocking_keys).where(blocking_keys.c.source_record_id.in_(chunk))
                     .values(master_id=merge.absorbed))
    # An interaction follows the key that attached it, when only the restored master
    # holds that key now (a key both hold attaches to neither, as at ingest).
    bk = blocking_keys.c
    holders: dict[str, set[str]] = {}
    for key, master in conn.execute(select(bk.key, bk.master_id).where(
            bk.master_id.in_([merge.survivor, merge.absorbed]))):
        holders.setdefault(key, set()).add(master)
    moved = [{"b_id": i.id, "b_master": merge.absorbed} for i in conn.execute(
        select(interactions.c.id, interactions.c.matched_by)
        .where(interactions.c.master_id == merge.survivor))
        if holders.get(i.matched_by or "") == {merge.absorbed}]
    if moved:
        conn.execute(update(interactions).where(interactions.c.id == bindparam("b_id"))
                     .values(master_id=bindparam("b_master")), moved)
    out.records, out.interactions = len(back), len(moved)
    earlier = [m.absorbed for m in merges_of(conn, merge.absorbed)
               if m.survivor == merge.absorbed and m.undone_at is None]
    if earlier:
        conn.execute(update(masters).where(_m.id.in_(earlier), _m.merged_into ==
                                           merge.survivor).values(merged_into=merge.absorbed))


def _require_active(row: Any, master_id: str, action: str) -> None:
    if row is None:
        raise MasteringRefused(f"cannot {action}: there is no customer {master_id} in "
                               "the master")
    if row.status != "active":
        into = f" into {row.merged_into}" if row.merged_into else ""
        raise MasteringRefused(f"cannot {action}: customer {master_id} is {row.status}"
                               f"{into}, not active")


def _national_codes(golden: dict[str, Any] | None) -> list[str]:
    return [v["value"] for v in (golden or {}).get("fields", {}).get("nationalCode", [])]
