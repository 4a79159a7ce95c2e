"""Requests pushed to Peyvand (web forms, SMS gateways), read from the store's inbox.

Features: incremental: the inbox ``seq`` (every request once, in the order received);
deletions: no; push: yes (``hub.store.inbox.accept`` writes, this adapter reads);
estimate: yes; payload: dict (the request's fields).

Connection: the master store itself; options.channel names the push endpoint.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar

from sqlalchemy import Engine

from hub.adapter import Adapter, Features
from hub.errors import FatalSourceError, StoreUnavailable
from hub.records import Checkpoint, RawRecord
from hub.store import inbox
from hub.store.engine import read

_PAGE = 500


@dataclass(frozen=True)
class InboxSettings:
    """Args:
        channel: the push endpoint whose requests to read (a form id, a gateway name).
    """

    channel: str


class InboxAdapter(Adapter):
    """Requests pushed to one inbox channel (web forms, SMS gateways), oldest first."""

    name: ClassVar[str] = "inbox"
    Settings: ClassVar[type] = InboxSettings
    features: ClassVar[Features] = Features(incremental=True, push=True, estimate=True)
    transient_errors: ClassVar[tuple[type[BaseException], ...]] = (StoreUnavailable,)

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> list[str]:
        channel = options.get("channel")
        if isinstance(channel, str) and not channel.strip():
            return ["options.channel: must not be empty."]
        return []

    def extract(self, checkpoint: Checkpoint | None) -> Iterator[RawRecord]:
        store = self._store()
        after = self._after(checkpoint)
        channel = self.settings.channel
        while True:
            page = read(store, f"reading the inbox {channel}",
                        partial(inbox.read_after, channel=channel, after=after, limit=_PAGE))
            for row in page:
                yield RawRecord(row.source_id, row.payload, f"inbox {channel} #{row.seq}",
                                Checkpoint(str(row.seq)))
            if len(page) < _PAGE:
                return
            after = page[-1].seq

    def estimate_total(self, checkpoint: Checkpoint | None) -> int | None:
        after = self._after(checkpoint)
        return read(self._store(), "counting the inbox",
                    lambda conn: inbox.count_after(conn, self.settings.channel, after))

    def _store(self) -> Engine:
        if self.context.store is None:
            raise FatalSourceError("the inbox adapter reads the master store, and none was "
                                   "given; run it through `peyvand run`")
        return self.context.store

    @staticmethod
    def _after(checkpoint: Checkpoint | None) -> int:
        if checkpoint is None:
            return 0
        if not checkpoint.value.isdigit():
            raise FatalSourceError(f"inbox checkpoint {checkpoint.value!r} is not a sequence "
                                   "number; reset the pipeline's checkpoint")
        return int(checkpoint.value)
