"""Consuming event envelopes from a queue, acknowledging each once it is handled."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kombu.connection import Connection
from kombu.entity import Queue
from kombu.message import Message
from kombu.messaging import Consumer


def drain(
    connection: Connection,
    queue: Queue,
    *,
    timeout: float,
    limit: int | None = None,
    handler: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Consume envelopes from ``queue`` until ``limit`` or until it stays quiet.

    Each message is acknowledged only after ``handler`` returned. If the handler
    raises, the message is left unacknowledged and the error propagates; the broker
    redelivers the message once the channel is closed (the memory transport drops it).

    Args:
        connection: the bus connection; the queue is declared on a channel of its own.
        queue: the queue to read, e.g. from ``topology.consumer_queue``.
        timeout: stop when no message arrives for this many seconds.
        limit: stop after this many messages.
        handler: called with each decoded envelope before it is acknowledged.

    Returns:
        The decoded envelopes, in the order they were received.
    """
    envelopes: list[dict[str, Any]] = []

    def on_message(body: dict[str, Any], message: Message) -> None:
        if handler is not None:
            handler(body)
        message.ack()
        envelopes.append(body)

    channel = connection.channel()
    try:
        with Consumer(channel, queues=[queue], callbacks=[on_message],
                      accept=["json"]) as consumer:
            if limit is not None:
                # Fetch no more than we will take; extra deliveries would be requeued.
                consumer.qos(prefetch_count=min(limit, 65535))  # AMQP: a short
            while limit is None or len(envelopes) < limit:
                try:
                    connection.drain_events(timeout=timeout)
                except TimeoutError:
                    break
    finally:
        connection.maybe_close_channel(channel)
    return envelopes
