"""The message bus: event topology, the outbox relay and consuming helpers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True, slots=True)
class BusSettings:
    """``bus:`` in config.yaml.

    Args:
        url: ``memory://`` (events stay in the store's outbox, the durable log, and
            reach consumers in this process) or ``amqp://user@host:5672//`` (RabbitMQ).
    """

    section: ClassVar[str] = "bus"
    url: str = "memory://"
