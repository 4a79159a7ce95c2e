"""The outbox as an ordered event log, on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from hub.events import EventType, NewEvent
from hub.store import outbox

EVENTS = [
    NewEvent(EventType.CUSTOMER_CREATED, "M1", 1, {"name": "مریم احمدی"}),
    NewEvent(EventType.RECORD_REJECTED, "erp/42", None, {"reason": "bad phone"}),
    NewEvent(EventType.CUSTOMER_UPDATED, "M1", 2, {"changed": ["email"]}),
]


def _append(engine: Engine, events: list[NewEvent]) -> None:
    with engine.begin() as conn:
        outbox.append(conn, events)


def test_append_then_read_gives_the_events_in_order(engine: Engine) -> None:
    _append(engine, EVENTS)

    events = outbox.read(engine)

    assert [e.type for e in events] == [e.type for e in EVENTS]
    assert [e.seq for e in events] == sorted(e.seq for e in events)
    assert len({e.event_id for e in events}) == 3
    first = events[0]
    assert uuid.UUID(first.event_id).version == 4
    assert first.published_at is None
    assert first.created_at.tzinfo is not None
    assert first.envelope() == {
        "schema": "urn:peyvand:event:v1",
        "event_id": first.event_id,
        "type": "customer.created",
        "seq": first.seq,
        "subject": "M1",
        "version": 1,
        "occurred_at": first.created_at.isoformat(),
        "data": {"name": "مریم احمدی"},
    }
    occurred = datetime.fromisoformat(first.envelope()["occurred_at"])
    assert occurred.utcoffset() == UTC.utcoffset(None)


def test_read_from_an_offset_with_a_limit(engine: Engine) -> None:
    _append(engine, EVENTS)
    first, second, third = outbox.read(engine)

    assert [e.seq for e in outbox.read(engine, after=first.seq)] == [second.seq, third.seq]
    assert [e.seq for e in outbox.read(engine, after=first.seq, limit=1)] == [second.seq]
    assert outbox.read(engine, after=third.seq) == []


def test_read_filters_by_type(engine: Engine) -> None:
    _append(engine, EVENTS)

    events = outbox.read(engine, types=["customer.created", "customer.updated"])

    assert [e.type for e in events] == ["customer.created", "customer.updated"]
    assert outbox.read(engine, types=[]) == []


def test_events_of_a_rolled_back_transaction_are_not_in_the_log(engine: Engine) -> None:
    with engine.connect() as conn, conn.begin() as tx:
        outbox.append(conn, EVENTS)
        tx.rollback()

    assert outbox.read(engine) == []


def test_unpublished_until_marked(engine: Engine) -> None:
    _append(engine, EVENTS)
    with engine.connect() as conn:
        first_two = outbox.unpublished(conn, 2)
    assert [e.type for e in first_two] == ["customer.created", "record.rejected"]

    with engine.begin() as conn:
        outbox.mark_published(conn, [e.seq for e in first_two])

    with engine.connect() as conn:
        rest = outbox.unpublished(conn, 10)
    assert [e.type for e in rest] == ["customer.updated"]
    published = outbox.read(engine, limit=2)
    assert all(e.published_at is not None for e in published)


@pytest.mark.postgres
def test_postgres_appends_commit_in_seq_order(pg_engine: Engine) -> None:
    # A reader at offset N must never miss a row that commits later with a seq <= N.
    done = threading.Event()

    def second_writer() -> None:
        _append(pg_engine, [NewEvent(EventType.CUSTOMER_UPDATED, "M2", 2, {})])
        done.set()

    with pg_engine.connect() as conn, conn.begin():
        outbox.append(conn, [NewEvent(EventType.CUSTOMER_CREATED, "M1", 1, {})])
        writer = threading.Thread(target=second_writer)
        writer.start()
        assert not done.wait(0.5), "the second append must wait for the first commit"
    writer.join(5)

    assert [e.type for e in outbox.read(pg_engine)] == ["customer.created",
                                                        "customer.updated"]
