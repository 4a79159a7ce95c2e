"""The master store: the durable truth (records, masters, quarantine, checkpoints, outbox)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True, slots=True)
class StoreSettings:
    """``store:`` in config.yaml.

    Args:
        url: a SQLAlchemy URL: ``sqlite:///path`` (embedded) or
            ``postgresql+psycopg://user@host:5432/db``; a password goes in the
            environment (``PEYVAND__STORE__URL``), never in the file.
    """

    section: ClassVar[str] = "store"
    url: str = "sqlite:///.peyvand/master.sqlite"
