"""The serve process's background worker: what lands in the inbox reaches the master.

An accepted request wakes the worker; it runs the inbox pipelines (the same ``Hub.run``
as ``peyvand run``: batches, quarantine, checkpoints, events) and relays the outbox. It
also looks every ``interval`` seconds, for requests other ``serve`` processes stored.
Several processes sharing one store take turns: a pipeline another one is running is
skipped (its run lock), and that one reads what this one stored.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import structlog
from sqlalchemy import func, select

from hub.app import Hub
from hub.errors import PeyvandError
from hub.store.engine import read
from hub.store.run_lock import PipelineBusy
from hub.store.tables import inbox

log = structlog.get_logger("peyvand.serve")


class InboxWorker:
    """Runs ``pipelines`` (inbox pipelines) whenever their channels have something new."""

    def __init__(self, hub: Hub, pipelines: Sequence[str], channels: Sequence[str],
                 interval: float = 5.0) -> None:
        self.hub, self.pipelines, self.channels = hub, list(pipelines), list(channels)
        self.interval = interval
        self.drained_to = -1          # the newest inbox seq already run through
        self.runs = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="peyvand-inbox", daemon=True)

    def start(self) -> None:
        if self.pipelines:
            self._thread.start()

    def stop(self, timeout: float = 30) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def wake(self) -> None:
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.drain()
            except PipelineBusy:
                pass   # another process runs them now, and reads what we stored
            except PeyvandError as exc:   # the store or the bus is away: the next turn
                log.warning("the inbox could not be processed now", error=str(exc))
            except Exception:   # a bug: say so, keep serving; the requests are stored
                log.exception("processing the inbox failed")

    def drain(self) -> int:
        """Run the pipelines if their channels hold requests not run through yet; how
        many records were read."""
        newest = self._newest()
        if newest <= self.drained_to:
            return 0
        stats = self.hub.run(self.pipelines)
        self.drained_to, self.runs = newest, self.runs + 1
        try:
            self.hub.relay()
        except PeyvandError as exc:   # the events wait in the outbox
            log.warning("events not published yet", error=str(exc))
        return sum(s.read for s in stats)

    def _newest(self) -> int:
        query = select(func.max(inbox.c.seq)).where(inbox.c.channel.in_(self.channels))
        return int(read(self.hub.engine, "looking for new requests",
                        lambda conn: conn.execute(query).scalar()) or 0)
