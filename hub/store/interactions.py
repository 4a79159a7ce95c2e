"""Interactions (an e-mail, an SMS, a form post): stored, attached to their customer.

An interaction is attached to the master its contact identifies: the master holding its
e-mail as a blocking key, else its mobile. A contact shared by several masters (a family
e-mail) attaches to none of them rather than to a guess; ``matched_by`` keeps the key
that decided. Each new or changed interaction appends an ``interaction.recorded`` event.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from hub import events
from hub.records import CanonicalRecord, RawRecord
from hub.store.outbox import append
from hub.store.sql import select_in, select_refs
from hub.store.tables import blocking_keys, interactions

_it = interactions.c


@dataclass
class InteractionOutcome:
    unchanged: int = 0
    added: int = 0
    changed: int = 0
    attached: int = 0
    events: int = 0


def contact_keys(record: CanonicalRecord) -> list[str]:
    """The blocking keys that may identify the interaction's customer, best first."""
    keys = [f"em:{e}" for e in record.values("contact.email")]
    return keys + [f"mo:{m}" for m in record.values("contact.phone:mobile")]


def record(conn: Connection, batch: Sequence[tuple[CanonicalRecord, RawRecord]]
           ) -> InteractionOutcome:
    """Store ``batch`` inside the caller's transaction and attach each to its customer."""
    out = InteractionOutcome()
    latest = {canon.ref: (canon, raw) for canon, raw in batch}
    out.unchanged = len(batch) - len(latest)
    known = {(r.source_system, r.source_id): r for r in select_refs(
        conn, select(_it.id, _it.source_system, _it.source_id, _it.content_hash),
        _it.source_system, _it.source_id, list(latest))}
    todo = []
    for ref, (canon, raw) in latest.items():
        row = known.get(ref)
        if row is not None and row.content_hash == canon.content_hash:
            out.unchanged += 1
        else:
            todo.append((canon, raw, row.id if row is not None else None))
    if not todo:
        return out
    owners = _owners(conn, {k for canon, _, _ in todo for k in contact_keys(canon)})
    now = datetime.now(UTC)
    rows, new_events = [], []
    for canon, raw, row_id in todo:
        key = next((k for k in contact_keys(canon) if len(owners.get(k, ())) == 1), None)
        master = next(iter(owners[key])) if key else None
        rows.append((row_id, _row(canon, raw, master, key, now)))
        new_events.append(events.interaction_recorded(canon.ref, canon.to_json(), master))
        out.attached += master is not None
    new = [r for row_id, r in rows if row_id is None]
    if new:
        conn.execute(insert(interactions), new)
    changed = [{"b_id": row_id, **r} for row_id, r in rows if row_id is not None]
    if changed:
        conn.execute(update(interactions).where(_it.id == bindparam("b_id")), changed)
    out.added, out.changed = len(new), len(changed)
    append(conn, new_events)
    out.events = len(new_events)
    return out


def _owners(conn: Connection, keys: set[str]) -> dict[str, set[str]]:
    owners: dict[str, set[str]] = {}
    bk = blocking_keys.c
    for key, master in select_in(conn, select(bk.key, bk.master_id), bk.key, keys):
        owners.setdefault(key, set()).add(master)
    return owners


def _row(canon: CanonicalRecord, raw: RawRecord, master: str | None, key: str | None,
         now: datetime) -> dict[str, Any]:
    return {"source_system": canon.source_system, "source_id": canon.source_id,
            "content_hash": canon.content_hash, "raw_hash": canon.raw_hash,
            "location": raw.location, "raw": raw.storable(), "canonical": canon.to_json(),
            "channel": canon.first("channel") or "other",
            "occurred_at": canon.first("occurredAt") or "", "master_id": master,
            "matched_by": key, "received_at": now}
