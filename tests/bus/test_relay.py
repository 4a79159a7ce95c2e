"""The outbox relay over the memory transport and a real RabbitMQ, and the bus topology."""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from kombu.connection import Connection
from kombu.entity import Queue
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError as SAOperationalError

from hub.bus.consume import drain
from hub.bus.relay import relay_outbox
from hub.bus.topology import connect, consumer_queue, describe_guarantee
from hub.errors import BusUnavailable, ConfigError
from hub.events import EventType, NewEvent
from hub.store import outbox

UNREACHABLE = "amqp://guest:guest@127.0.0.1:1//"
EVENTS = [
    NewEvent(EventType.CUSTOMER_CREATED, "M1", 1, {"name": "Maryam"}),
    NewEvent(EventType.RECORD_REJECTED, "erp/42", None, {"reason": "bad phone"}),
    NewEvent(EventType.CUSTOMER_UPDATED, "M1", 2, {"changed": ["email"]}),
    NewEvent(EventType.CUSTOMER_MERGED, "M1", 3, {"merged": ["M2"]}),
]


def _append(engine: Engine, events: list[NewEvent]) -> list[outbox.Event]:
    before = outbox.read(engine)
    with engine.begin() as conn:
        outbox.append(conn, events)
    return outbox.read(engine, after=before[-1].seq if before else 0)


def _declared(conn: Connection, queue: Queue) -> Queue:
    with conn.channel() as channel:
        queue(channel).declare()
    return queue


@pytest.fixture(name="memory_bus")
def _memory_bus() -> Iterator[Connection]:
    with connect("memory://") as conn:
        yield conn


@pytest.fixture(name="customer_queue")
def _customer_queue() -> Queue:
    # Unique: the memory transport's state is global to the process, a broker's to all.
    return consumer_queue(f"test.customers.{uuid.uuid4().hex}", ["customer.*"])


def _delete(conn: Connection, queue: Queue) -> None:
    with conn.channel() as channel:
        queue(channel).delete()


# --- memory:// -----------------------------------------------------------------------

def test_memory_relay_reaches_a_consumer_of_this_process(
    sqlite_engine: Engine, memory_bus: Connection, customer_queue: Queue
) -> None:
    stored = _append(sqlite_engine, EVENTS)
    _declared(memory_bus, customer_queue)
    try:
        # The relay opens its own Connection: kombu's memory state is process-global.
        assert relay_outbox(sqlite_engine, "memory://") == 4
        received = drain(memory_bus, customer_queue, timeout=0.3)
        assert relay_outbox(sqlite_engine, "memory://") == 0
    finally:
        _delete(memory_bus, customer_queue)

    customer_events = [e for e in stored if e.type.startswith("customer.")]
    assert received == [e.envelope() for e in customer_events]
    assert [r["type"] for r in received] == ["customer.created", "customer.updated",
                                             "customer.merged"]
    assert all(e.published_at is not None for e in outbox.read(sqlite_engine))


def test_memory_relay_publishes_every_batch(
    sqlite_engine: Engine, memory_bus: Connection, customer_queue: Queue
) -> None:
    stored = _append(sqlite_engine, [NewEvent(EventType.CUSTOMER_UPDATED, "M1", v, {})
                                     for v in range(5)])
    _declared(memory_bus, customer_queue)
    try:
        published = relay_outbox(sqlite_engine, "memory://", batch_size=2,
                                 connection=memory_bus)
        received = drain(memory_bus, customer_queue, timeout=0.3, limit=5)
    finally:
        _delete(memory_bus, customer_queue)

    assert published == 5
    assert [r["seq"] for r in received] == [e.seq for e in stored]


def test_two_relays_at_once_publish_each_event_once(
    engine: Engine, memory_bus: Connection
) -> None:
    """L6: two `peyvand run` on one store each relay; without a lock 20,727 events were
    published 35,727 times. Two threads relay one outbox here, SQLite and PostgreSQL."""
    stored = _append(engine, [NewEvent(EventType.CUSTOMER_UPDATED, "M1", v, {})
                              for v in range(1200)])
    everything = _declared(memory_bus, consumer_queue(f"test.all.{uuid.uuid4().hex}", ["#"]))
    start = threading.Barrier(2)
    counts: list[int] = []

    def relay() -> None:
        start.wait()
        counts.append(relay_outbox(engine, "memory://", batch_size=25))

    try:
        threads = [threading.Thread(target=relay) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        received = drain(memory_bus, everything, timeout=0.5)
    finally:
        _delete(memory_bus, everything)

    assert sum(counts) == len(stored) == 1200
    assert sorted(m["seq"] for m in received) == [e.seq for e in stored]


def test_a_store_failure_while_relaying_is_retried(
    sqlite_engine: Engine, memory_bus: Connection, customer_queue: Queue,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    """M6: the relay's reads and marks are retried like writes (the store blinked)."""
    _append(sqlite_engine, EVENTS)
    _declared(memory_bus, customer_queue)
    real, calls = outbox.unpublished, []

    def blinking(conn: Any, limit: int) -> list[outbox.Event]:
        calls.append(limit)
        if len(calls) == 1:
            raise SAOperationalError("SELECT", {}, sqlite3.OperationalError("disk I/O error"))
        return real(conn, limit)

    monkeypatch.setattr(outbox, "unpublished", blinking)
    try:
        assert relay_outbox(sqlite_engine, "memory://") == 4
        received = drain(memory_bus, customer_queue, timeout=0.3)
    finally:
        _delete(memory_bus, customer_queue)
    assert len(calls) >= 2 and len(received) == 3


# --- RabbitMQ ------------------------------------------------------------------------

@pytest.fixture(name="amqp_bus")
def _amqp_bus(amqp_url: str) -> Iterator[Connection]:
    with connect(amqp_url) as conn:
        yield conn


def _get_all(conn: Connection, queue: Queue, want: set[str],
             timeout: float = 5.0) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(body, properties) of each message until every event id in ``want`` was seen."""
    got: list[tuple[dict[str, Any], dict[str, Any]]] = []
    deadline = time.monotonic() + timeout
    with conn.channel() as channel:
        bound = queue(channel)
        while want - {body["event_id"] for body, _ in got} and time.monotonic() < deadline:
            message = bound.get(accept=["json"])
            if message is None:
                time.sleep(0.05)
                continue
            message.ack()
            got.append((message.payload, {**message.properties, "headers": message.headers}))
    return got


def test_rabbitmq_relay_publishes_persistent_messages_with_ids(
    sqlite_engine: Engine, amqp_url: str, amqp_bus: Connection,
    customer_queue: Queue,
) -> None:
    stored = _append(sqlite_engine, EVENTS)
    ours = [e for e in stored if e.type.startswith("customer.")]
    _declared(amqp_bus, customer_queue)
    try:
        assert relay_outbox(sqlite_engine, amqp_url) == 4
        messages = _get_all(amqp_bus, customer_queue, {e.event_id for e in ours})

        # Other runs may publish to the shared exchange too: keep to our own events.
        ids = {e.event_id for e in stored}
        assert [b for b, _ in messages if b["event_id"] in ids] == [e.envelope() for e in ours]
        for body, props in messages:
            assert props["delivery_mode"] == 2
            assert props["message_id"] == body["event_id"]
            assert props["headers"] == {"event_type": body["type"], "seq": body["seq"]}

        later = _append(sqlite_engine, [NewEvent(EventType.CUSTOMER_UPDATED, "M1", 4, {})])
        assert relay_outbox(sqlite_engine, amqp_url, connection=amqp_bus) == 1
        received = drain(amqp_bus, customer_queue, timeout=1.0)
        assert [r for r in received if r["event_id"] in {later[0].event_id}] == [
            later[0].envelope()]
    finally:
        _delete(amqp_bus, customer_queue)


def test_unreachable_broker_raises_and_leaves_rows_unpublished(sqlite_engine: Engine) -> None:
    _append(sqlite_engine, EVENTS[:1])

    masked = r"cannot reach the bus at amqp://guest:\*\*\*@127\.0\.0\.1:1//"
    with pytest.raises(BusUnavailable, match=masked) as info:
        relay_outbox(sqlite_engine, UNREACHABLE)

    assert ":guest@" not in str(info.value)
    assert isinstance(info.value.__cause__, OSError)
    with sqlite_engine.connect() as conn:
        assert len(outbox.unpublished(conn, 10)) == 1


def test_relay_refuses_an_amqp_connection_without_confirms(sqlite_engine: Engine) -> None:
    with Connection(UNREACHABLE) as plain, pytest.raises(ValueError, match="confirms"):
        relay_outbox(sqlite_engine, UNREACHABLE, connection=plain)


def test_refused_login_is_a_config_error(sqlite_engine: Engine, amqp_url: str) -> None:
    _append(sqlite_engine, EVENTS[:1])
    parts = urlsplit(amqp_url)
    wrong = urlunsplit(parts._replace(netloc=f"peyvand-nobody:wrong@{parts.hostname}:{parts.port}"))

    with pytest.raises(ConfigError, match="refused the login") as info:
        relay_outbox(sqlite_engine, wrong)

    assert ":wrong@" not in str(info.value)


# --- topology and guarantees ---------------------------------------------------------

def test_consumer_queue_is_durable_bound_and_dead_lettered() -> None:
    queue = consumer_queue("crm", ["customer.created", "customer.merged"])

    assert queue.durable
    assert {(b.exchange.name, b.routing_key) for b in queue.bindings} == {
        ("peyvand.events", "customer.created"), ("peyvand.events", "customer.merged")}
    assert queue.queue_arguments == {"x-dead-letter-exchange": "peyvand.dlx"}


def test_describe_guarantee_memory_points_to_the_outbox() -> None:
    sentence = describe_guarantee("memory://")

    assert sentence.startswith("bus memory://: events are kept in the store's outbox")
    assert "`peyvand events`" in sentence


def test_describe_guarantee_amqp_masks_the_password() -> None:
    sentence = describe_guarantee("amqp://hub:s3cret@rabbit.example:5672/prod")

    assert "s3cret" not in sentence
    assert sentence.startswith("bus amqp://hub:***@rabbit.example:5672/prod: durable queues")
    assert "publisher confirms" in sentence
    assert "event_id" in sentence


@pytest.mark.parametrize(("url", "reason"), [
    ("sqla+sqlite:///bus.sqlite", "no visibility timeout"),
    ("sqla+postgresql://hub:s3cret@db/bus", "never deletes acknowledged rows"),
    ("filesystem://", "never fsyncs"),
    ("redis://:s3cret@cache:6379/0", "not supported yet"),
])
def test_unsafe_or_unknown_transports_are_refused(url: str, reason: str) -> None:
    with pytest.raises(ConfigError, match=reason) as info:
        describe_guarantee(url)
    assert "s3cret" not in str(info.value)
    assert "memory://" in str(info.value)

    with pytest.raises(ConfigError):
        connect(url)
