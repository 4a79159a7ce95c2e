"""The serve process's background worker: what lands in the inbox reaches the master.

An accepted request wakes the worker; it runs the inbox pipelines of the channels that
received something (the same ``Hub.run`` as ``peyvand run``: batches, quarantine,
checkpoints, events) and relays the outbox. It also looks every ``interval`` seconds, for
requests other ``serve`` processes stored. Several processes sharing one store take
turns: a pipeline another one is running is skipped (its run lock), and that one reads
what this one stored.

No SMS becomes an interaction before its sender is a customer. An interaction is
attached when it is recorded, to the customer its sender's mobile identifies then
(``hub.store.interactions``). A gateway's contacts pipeline and its interactions pipeline
read one inbox channel, each to its end: were a message stored between the two runs, the
interactions pipeline would read it before the contacts pipeline had made its sender a
customer, and a new number's first message would stay unattached. (Measured: of 200
messages from new numbers, sent by four clients at once, 77 stayed unattached on SQLite
and 95 on PostgreSQL; none with what follows, which costs PostgreSQL about a tenth of its
intake rate and SQLite nothing measurable.) So, per gateway channel:

1. the contacts pipelines run, with intake open: the bulk of the work (matching);
2. then intake on that channel waits while the contacts pipelines run again if
   messages were stored meanwhile, and the interactions pipelines run: they read
   exactly what the contacts pipelines read. The wait is an in-process lock, which the SMS
   intake takes around its store, and on PostgreSQL the store's ``inbox`` lock too, so
   that the intake of other ``serve`` processes on the same store waits as well (on
   SQLite one process serves a store).

Forms' pipelines run first; only the channels that received something since the last
turn are run (a message on one gateway does not run every gateway's pipelines, whose
runs each write to the store).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

import structlog
from sqlalchemy import func, select

from hub.app import Hub
from hub.errors import PeyvandError
from hub.pipeline import RunStats
from hub.store.dialect import lock
from hub.store.engine import read, unit_of_work
from hub.store.run_lock import PipelineBusy
from hub.store.tables import inbox

log = structlog.get_logger("peyvand.serve")


class GatewayPipelines:
    """The pipelines on one gateway's channel: those that make customers, the others."""

    def __init__(self, customers: Sequence[str], others: Sequence[str]) -> None:
        self.customers, self.others = list(customers), list(others)
        self.gate = threading.Lock()   # held by intake while it stores, by the worker in 2.


class InboxWorker:
    """Runs the forms' and gateways' pipelines whenever their channels have something new."""

    def __init__(self, hub: Hub, forms: Sequence[str], form_channels: Sequence[str],
                 gateways: Mapping[str, GatewayPipelines], interval: float = 5.0) -> None:
        self.hub, self.interval = hub, interval
        self.forms, self.gateways = list(forms), dict(gateways)
        self.form_channels = set(form_channels)
        self.channels = [*form_channels, *gateways]
        self.seen: dict[str, int] = {}   # channel -> the newest seq run through
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="peyvand-inbox", daemon=True)

    def start(self) -> None:
        if self.channels:
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
        """Run the pipelines of the channels holding requests not run through yet; how
        many records were read."""
        newest = self._newest_by_channel()
        fresh = {c for c, seq in newest.items() if seq > self.seen.get(c, 0)}
        if not fresh:
            return 0
        stats = self.hub.run(self.forms) if self.forms and fresh & self.form_channels else []
        for channel, pipelines in self.gateways.items():
            if channel in fresh:
                stats += self._gateway(channel, pipelines)
        self.seen.update(newest)
        try:
            self.hub.relay()
        except PeyvandError as exc:   # the events wait in the outbox
            log.warning("events not published yet", error=str(exc))
        return sum(s.read for s in stats)

    def _gateway(self, channel: str, pipelines: GatewayPipelines) -> list[RunStats]:
        stats = self.hub.run(pipelines.customers) if pipelines.customers else []
        if pipelines.others:
            with pipelines.gate, self._store_gate(channel):
                behind = pipelines.customers and self._behind(channel, pipelines.customers)
                stats += self.hub.run([*(pipelines.customers if behind else ()),
                                       *pipelines.others])
        return stats

    def _behind(self, channel: str, customers: Sequence[str]) -> bool:
        """Whether the channel holds a message a contacts pipeline has not read yet."""
        newest = self._newest_by_channel([channel]).get(channel, 0)
        reached = [self.hub.checkpoint(name) for name in customers]
        return any(at is None or not at[0].isdigit() or int(at[0]) < newest
                   for at in reached)

    def _newest_by_channel(self, channels: Sequence[str] = ()) -> dict[str, int]:
        query = (select(inbox.c.channel, func.max(inbox.c.seq))
                 .where(inbox.c.channel.in_(channels or self.channels))
                 .group_by(inbox.c.channel))
        return read(self.hub.engine, "looking for new requests", lambda conn: {
            str(channel): int(seq) for channel, seq in conn.execute(query)})

    @contextmanager
    def _store_gate(self, channel: str) -> Iterator[None]:
        """The store's inbox lock, held on a connection of its own (PostgreSQL)."""
        if self.hub.engine.dialect.name != "postgresql":
            yield
            return
        with unit_of_work(self.hub.engine, f"holding the inbox of {channel}") as conn:
            lock(conn, "inbox")
            yield
