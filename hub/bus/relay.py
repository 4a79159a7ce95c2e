"""The relay: publishes the outbox to the bus, in ``seq`` order, at least once.

A row is marked published only after the broker has confirmed its batch. A crash (or a
lost connection) between publishing and marking publishes those rows again on the next
run, so consumers see an event at least once and deduplicate by ``event_id``.

One relay at a time per store: each batch is read, published and marked in one writing
transaction under the ``relay`` lock (on SQLite the store's write lock, taken by BEGIN
IMMEDIATE; on PostgreSQL an advisory lock). A second relay, from another ``peyvand run``
or ``peyvand relay``, waits for the batch to commit and then reads only what is still
unpublished, so no event is published twice by two relays. On SQLite writers wait while
a batch is published (a batch of 500 over AMQP with confirms takes about half a second
on a local network). A store failure is retried per batch (``hub.retry``); the batch it
interrupted is published again, as after a crash.

With ``memory://`` the same code runs. kombu keeps the memory transport's state in
class attributes, so it is global to the process: exchanges and bindings live in
``memory.Transport.global_state`` and the message queues in ``memory.Channel.queues``.
Every ``kombu.Connection("memory://")`` in the process therefore reaches every queue
any of them declared; the relay need not share a ``Connection`` object with in-process
consumers. Consumers must declare their queue before the relay runs: an event whose
routing key no queue is bound to is dropped (as on RabbitMQ), and is then only in the
outbox.
"""

from __future__ import annotations

import structlog
from amqp.exceptions import AccessRefused
from kombu.connection import Connection
from kombu.exceptions import OperationalError
from kombu.messaging import Producer
from sqlalchemy import Engine
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from hub.bus.topology import EVENTS, connect, declare_topology
from hub.errors import BusUnavailable, ConfigError
from hub.log import mask_url, without_password
from hub.retry import retry_store
from hub.store import outbox
from hub.store.dialect import lock
from hub.store.engine import unit_of_work

log = structlog.get_logger(__name__)

_ATTEMPTS = 4


def relay_outbox(
    engine: Engine,
    bus_url: str,
    *,
    batch_size: int = 500,
    connection: Connection | None = None,
) -> int:
    """Publish every unpublished outbox event and mark it published.

    Each event goes to ``peyvand.events`` as its JSON envelope, persistent, with the
    event type as routing key and ``event_id`` as message id. With AMQP each publish
    waits for the broker's confirm; after a whole batch is confirmed its rows are
    marked in one UPDATE, in a transaction of their own.

    Args:
        engine: the store holding the outbox.
        bus_url: the bus; used to connect when ``connection`` is not given, and in
            error messages (with its password masked).
        batch_size: events read, published and marked together.
        connection: a connection from ``topology.connect`` to use (and leave open)
            instead of opening one.

    Returns:
        How many events were published.

    Raises:
        BusUnavailable: the bus could not be reached, even after a few retries; the
            rows not confirmed yet stay unpublished.
        ConfigError: the broker refused the credentials in ``bus_url``.
        ValueError: ``connection`` is an AMQP connection without publisher confirms.
    """
    conn = connection if connection is not None else connect(bus_url)
    if conn.transport.driver_type == "amqp" and not (conn.transport_options or {}).get(
            "confirm_publish"):
        raise ValueError("the AMQP connection must publish with confirms: open it with "
                         "hub.bus.topology.connect()")
    reachable_errors = (*conn.recoverable_connection_errors, OSError, OperationalError)
    failed_errors = (*reachable_errors, *conn.connection_errors)
    published = 0

    def attempt() -> None:
        nonlocal published
        # Fail fast: tenacity, not kombu, decides how often and how long to retry.
        conn.ensure_connection(max_retries=0, reraise_as_library_errors=False)
        channel = conn.channel()
        try:
            declare_topology(channel)
            producer = Producer(channel, exchange=EVENTS, serializer="json",
                                auto_declare=False)
            while True:
                count = _relay_batch(engine, producer, batch_size)
                published += count
                if count < batch_size:
                    return
        finally:
            conn.maybe_close_channel(channel)

    def reconnect(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        log.warning("bus unreachable, retrying", bus=mask_url(bus_url),
                    attempt=state.attempt_number, error=without_password(str(exc), bus_url))
        conn.collect()  # drop the broken connection; the next attempt opens a new one

    retrying = Retrying(
        retry=retry_if_exception_type(reachable_errors),
        stop=stop_after_attempt(_ATTEMPTS),
        wait=wait_exponential(multiplier=0.2, max=2.0),
        before_sleep=reconnect,
        reraise=True,
    )
    try:
        retrying(attempt)
    except AccessRefused as exc:  # wrong credentials: retrying will not help
        raise ConfigError("bus.url", [f"{mask_url(bus_url)}: the broker refused the login: "
                                      f"{without_password(str(exc), bus_url)}"]) from exc
    except failed_errors as exc:
        raise BusUnavailable(f"cannot reach the bus at {mask_url(bus_url)}: "
                             f"{without_password(str(exc), bus_url)}") from exc
    finally:
        if connection is None:
            conn.release()
    return published


@retry_store
def _relay_batch(engine: Engine, producer: Producer, batch_size: int) -> int:
    with unit_of_work(engine, "relaying a batch of events") as db:
        lock(db, "relay")   # held until the marks commit: see the module's docstring
        events = outbox.unpublished(db, batch_size)
        for event in events:
            # With confirm_publish on, py-amqp returns only once the broker has acked.
            producer.publish(
                event.envelope(),
                routing_key=event.type,
                delivery_mode=2,
                message_id=event.event_id,
                headers={"event_type": event.type, "seq": event.seq},
            )
        outbox.mark_published(db, [event.seq for event in events])
    return len(events)
