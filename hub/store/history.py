"""Merge history: every merge of one master into another, with the records it moved.

Automatic merges (``MasterRepository._merge``), manual ones and accepted review pairs all
write a row here in the merge's own transaction. ``unmerge`` reads it back: the row names
exactly the source records the merge moved, so undoing it puts those records, and no
others, back on the absorbed id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, insert, select

from hub.store.tables import merge_history

MergeKind = Literal["auto", "manual", "review", "rematch"]
_mh = merge_history.c


@dataclass(frozen=True, slots=True)
class MergeRecord:
    """One merge: ``absorbed`` went into ``survivor``, moving ``record_ids``.

    Args:
        survivor: the master that lives on.
        absorbed: the master that now resolves to ``survivor``.
        record_ids: the ``source_records.id`` the merge moved from ``absorbed``.
        kind: auto (matching), manual, review (an accepted pair) or rematch.
        evidence: why (the rule and the record that matched both, or who merged them).
        merged_at: when.
        id: the history row's id (None before it is written).
        undone_at: when it was unmerged; None while it holds.
    """

    survivor: str
    absorbed: str
    record_ids: list[int]
    kind: MergeKind
    evidence: dict[str, Any] | None
    merged_at: datetime
    id: int | None = None
    undone_at: datetime | None = None


def record_merges(conn: Connection, rows: Sequence[MergeRecord]) -> None:
    """Write ``rows`` in one statement inside the caller's transaction."""
    if rows:
        conn.execute(insert(merge_history), [
            {"survivor": r.survivor, "absorbed": r.absorbed,
             "record_ids": sorted(r.record_ids), "kind": r.kind, "evidence": r.evidence,
             "merged_at": r.merged_at} for r in rows])


def merges_of(conn: Connection, master_id: str) -> list[MergeRecord]:
    """Every merge ``master_id`` took part in, as survivor or absorbed, newest first."""
    rows = conn.execute(select(merge_history).where(
        (_mh.survivor == master_id) | (_mh.absorbed == master_id)).order_by(_mh.id.desc()))
    return [_record(r) for r in rows]


def merge_by_id(conn: Connection, history_id: int) -> MergeRecord | None:
    row = conn.execute(select(merge_history).where(_mh.id == history_id)).first()
    return _record(row) if row is not None else None


def _record(row: Any) -> MergeRecord:
    return MergeRecord(row.survivor, row.absorbed, list(row.record_ids), row.kind,
                       row.evidence, row.merged_at, row.id, row.undone_at)
