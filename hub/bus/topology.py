"""What the bus looks like (exchanges, queues, routing keys) and what it promises.

Events go to the topic exchange ``peyvand.events`` with the event type as routing key
(``customer.created``, ``customer.merged``, ``record.rejected`` ...); a consumer binds
its own durable queue to the keys it wants (``customer.*``). Messages a consumer
rejects go to the fanout exchange ``peyvand.dlx`` and wait in ``peyvand.dead``.

Only two transports are supported: ``memory://`` (one process; the store's outbox is
the durable log) and AMQP (RabbitMQ). See ``describe_guarantee`` for why not the others.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kombu.connection import Connection
from kombu.entity import Exchange, Queue, binding

from hub.errors import ConfigError
from hub.log import mask_url, password_problem

__all__ = ["DEAD_LETTERS", "DEAD_QUEUE", "EVENTS", "connect", "consumer_queue",
           "declare_topology", "describe_guarantee", "mask_url"]

EVENTS = Exchange("peyvand.events", type="topic", durable=True)
DEAD_LETTERS = Exchange("peyvand.dlx", type="fanout", durable=True)
DEAD_QUEUE = Queue("peyvand.dead", exchange=DEAD_LETTERS, routing_key="", durable=True)

_AMQP_SCHEMES = frozenset({"amqp", "amqps", "pyamqp"})

# Why a kombu transport is no durable bus for us (DESIGN.md, "Embedded by default").
_SQLA_REASON = ("kombu's sqla+ transport hides a message when it is fetched, with no "
                "visibility timeout (a crashed consumer loses it), swallows publish errors "
                "and never deletes acknowledged rows")
_REFUSED = {
    "sqla": _SQLA_REASON,
    "sqlalchemy": _SQLA_REASON,
    "filesystem": "kombu's filesystem transport deletes a message file before it is "
                  "acknowledged and never fsyncs, so a crash loses messages",
}
_SUPPORTED = ("only memory:// (one process) and amqp:// / amqps:// / pyamqp:// (RabbitMQ) "
              "are supported; the store's outbox stays the durable log either way")


def consumer_queue(name: str, routing_keys: Iterable[str]) -> Queue:
    """A durable queue bound to ``peyvand.events`` for each of ``routing_keys``.

    Messages the consumer rejects (or that expire) are dead-lettered to ``peyvand.dlx``.

    Args:
        name: the queue name; one per consuming application, shared by its workers.
        routing_keys: event types or topic patterns (``customer.*``, ``#``).
    """
    bindings = [binding(EVENTS, routing_key=key) for key in routing_keys]
    if not bindings:
        raise ValueError(f"queue {name!r} needs at least one routing key")
    return Queue(name, bindings=bindings, durable=True,
                 queue_arguments={"x-dead-letter-exchange": DEAD_LETTERS.name})


def declare_topology(channel: Any) -> None:
    """Declare the event exchange and the dead-letter exchange with its queue.

    ``channel`` is a channel of any transport (kombu annotates only the virtual one).
    """
    EVENTS(channel).declare()
    DEAD_QUEUE(channel).declare()  # also declares peyvand.dlx


def connect(bus_url: str, *, connect_timeout: float = 5.0) -> Connection:
    """A (lazy) connection to the bus at ``bus_url``, set up for our guarantees.

    AMQP connections publish with confirms. Memory connections poll every 50 ms, not
    kombu's default second, so an in-process consumer sees events promptly.

    Raises:
        ConfigError: the transport is not one we support.
    """
    scheme = _scheme(bus_url)
    _check_supported(bus_url, scheme)
    options: dict[str, object] = ({"confirm_publish": True} if scheme in _AMQP_SCHEMES
                                  else {"polling_interval": 0.05})
    return Connection(bus_url, connect_timeout=connect_timeout, transport_options=options)


def describe_guarantee(bus_url: str) -> str:
    """Say in one sentence what delivery guarantee the bus at ``bus_url`` gives.

    Raises:
        ConfigError: the transport gives no guarantee we can keep (``sqla+``,
            ``filesystem``) or is not supported yet.
    """
    scheme = _scheme(bus_url)
    _check_supported(bus_url, scheme)
    shown = mask_url(bus_url)
    if scheme == "memory":
        return (f"bus {shown}: events are kept in the store's outbox (the durable log); "
                "the in-process memory transport reaches only consumers in this process "
                "— other processes read the log with `peyvand events`")
    return (f"bus {shown}: durable queues, persistent messages and publisher confirms; "
            "at-least-once delivery, consumers deduplicate by event_id")


def _scheme(url: str) -> str:
    # kombu reads "sqla+postgresql://" as transport "sqla" over a SQLAlchemy URL.
    head = url.partition("://")[0] if "://" in url else url
    return head.partition("+")[0].lower()


def _check_supported(bus_url: str, scheme: str) -> None:
    if scheme == "memory" or scheme in _AMQP_SCHEMES:
        if problem := password_problem(bus_url):
            raise ConfigError("bus.url", [problem])
        return
    reason = _REFUSED.get(scheme, f"the {scheme!r} transport is not supported yet")
    raise ConfigError("bus.url", [f"{mask_url(bus_url)}: {reason}; {_SUPPORTED}"])
