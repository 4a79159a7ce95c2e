"""The inbox of push sources: each request is stored before it is answered.

A web form or an SMS gateway pushes a request; ``accept`` commits it to the ``inbox``
table and returns a receipt, and only then may the caller answer ``202``. The ``inbox``
adapter reads a channel's requests in ``seq`` order like any other source, with the last
``seq`` as its checkpoint. Writes take the inbox lock, so requests commit in ``seq`` order
and a reader never skips one that commits late. A request repeated with the same id
(a gateway's retry) is stored once. A signed request's signature is kept until its replay
window closes, in the same transaction: the same signature again is ``Replayed``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select

from hub.store.dialect import lock
from hub.store.engine import unit_of_work
from hub.store.tables import inbox, request_signatures


class Replayed(Exception):
    """A signed request whose signature was received before, within its window."""


@dataclass(frozen=True, slots=True)
class Receipt:
    """What the pushing system is told: its request is safely stored."""

    seq: int
    source_id: str
    duplicate: bool   # the same id was received before; nothing new was stored


def accept(engine: Engine, channel: str, payload: Mapping[str, Any],
           source_id: str | None = None, *, signature: str | None = None,
           window: float = 300) -> Receipt:
    """Store one pushed request durably (committed on return).

    Args:
        engine: the store.
        channel: the push endpoint (a form id, an SMS gateway).
        payload: the request's fields; JSON-serializable.
        source_id: the sender's own id of the request, if it sends one; else a new one.
        signature: a digest of the request's signature; Replayed if seen before.
        window: seconds the signature is kept (the replay window).
    """
    source_id = source_id or uuid.uuid4().hex
    with unit_of_work(engine, f"storing a request on {channel}") as conn:
        lock(conn, "inbox")
        if signature is not None:
            _remember(conn, signature, window)
        found = conn.execute(select(inbox.c.seq).where(inbox.c.channel == channel,
                                                       inbox.c.source_id == source_id)).scalar()
        if found is not None:
            return Receipt(found, source_id, duplicate=True)
        seq = conn.execute(insert(inbox).returning(inbox.c.seq), {
            "channel": channel, "source_id": source_id, "payload": dict(payload),
            "received_at": datetime.now(UTC)}).scalar_one()
    return Receipt(seq, source_id, duplicate=False)


def _remember(conn: Connection, signature: str, window: float) -> None:
    now = datetime.now(UTC)
    conn.execute(delete(request_signatures).where(request_signatures.c.expires_at < now))
    seen = conn.execute(select(request_signatures.c.digest).where(
        request_signatures.c.digest == signature)).first()
    if seen is not None:
        raise Replayed(signature)
    conn.execute(insert(request_signatures), {"digest": signature,
                                              "expires_at": now + timedelta(seconds=window)})


def read_after(conn: Connection, channel: str, after: int, limit: int) -> list[Any]:
    """The channel's requests with ``seq > after``, oldest first."""
    return list(conn.execute(select(inbox).where(inbox.c.channel == channel,
                                                 inbox.c.seq > after)
                             .order_by(inbox.c.seq).limit(limit)))


def count_after(conn: Connection, channel: str, after: int) -> int:
    return int(conn.execute(select(func.count()).select_from(inbox).where(
        inbox.c.channel == channel, inbox.c.seq > after)).scalar_one())
