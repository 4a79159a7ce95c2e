"""Absorbing masters into their survivors: the pointer updates every kind of merge shares.

Automatic merges (``MasterRepository._merge``), re-matching (``hub.store.rematch``) and a
steward's merges (``hub.store.mastering``) all move what an absorbed master holds the
same way, here; each writes its own history, links and events from what this returns.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import Connection, bindparam, select, update

from hub.store.sql import select_in
from hub.store.tables import blocking_keys, interactions, masters, source_records

_sr = source_records.c


def absorb_masters(conn: Connection, into: Mapping[str, str],
                   now: datetime) -> dict[str, list[int]]:
    """Move the source records, blocking keys, interactions and earlier ``merged_into``
    pointers of each absorbed master in ``into`` (absorbed -> survivor) to its survivor
    and mark it merged; the source record ids moved, per absorbed master.

    Every statement goes through an index (records and interactions by master,
    blocking keys by record, masters by id or by ``merged_into``), in bulk. Survivors
    must not be absorbed themselves (callers pass each chain's final survivor).
    """
    moved: dict[str, list[int]] = {absorbed: [] for absorbed in into}
    if not into:
        return moved
    rows = select_in(conn, select(_sr.id, _sr.master_id), _sr.master_id, into)
    if rows:
        conn.execute(update(blocking_keys)
                     .where(blocking_keys.c.source_record_id == bindparam("b_id"))
                     .values(master_id=bindparam("b_new")),
                     [{"b_id": r.id, "b_new": into[r.master_id]} for r in rows])
    by_master = [{"b_old": a, "b_new": s} for a, s in into.items()]
    for table, column in ((source_records, _sr.master_id),
                          (interactions, interactions.c.master_id),
                          (masters, masters.c.merged_into)):   # earlier merges, too
        conn.execute(update(table).where(column == bindparam("b_old"))
                     .values({column.key: bindparam("b_new")}), by_master)
    # An absorbed master keeps the version of its last event: the merge is announced
    # by its survivor's.
    conn.execute(update(masters).where(masters.c.id == bindparam("b_old"))
                 .values(status="merged", merged_into=bindparam("b_new"), updated_at=now),
                 by_master)
    for row in sorted(rows, key=lambda r: r.id):
        moved[row.master_id].append(row.id)
    return moved
