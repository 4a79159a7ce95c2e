"""Prometheus metrics of ``peyvand serve``: the store's counts, read at scrape time, and
this process's requests.

What lives in the store (source records, open quarantine entries, customers, the outbox)
is read from the store when Prometheus scrapes, one cheap query per family, because
several ``serve`` processes and the ``peyvand run``/``sync`` jobs all write the one store:
a count kept in a process would see only its own share. Each process therefore reports
the same store numbers; aggregate them with ``max``, never ``sum``. The requests this
process answered are counted in it (a counter and a latency histogram by route template,
method and status); Prometheus scrapes each process and sums those.

Each application gets a registry of its own (not prometheus-client's global one), so two
apps in one process (tests) do not collide.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator

import structlog
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.errors import PeyvandError
from hub.store.counts import StoreCounts, read_counts

log = structlog.get_logger("peyvand.serve")

UNMATCHED = "unmatched"   # a path no route takes: one label, whatever was asked
# Any other method a client sends is counted as "other": labels stay a bounded set.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class StoreCollector(Collector):
    """The store's counts, read at each scrape (``peyvand_store_up`` 0 when it is away)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def describe(self) -> Iterable[Metric]:
        return self._families(StoreCounts({}, {}, {}, 0, 0, None))   # names, no query

    def collect(self) -> Iterator[Metric]:
        try:
            counts = read_counts(self.engine)
        except PeyvandError as exc:
            log.warning("the store's counts could not be read for /metrics", error=str(exc))
            counts = None
        yield from self._families(counts)

    @staticmethod
    def _families(counts: StoreCounts | None) -> list[Metric]:
        up = GaugeMetricFamily("peyvand_store_up", "1 when the store answered this scrape.",
                               value=0 if counts is None else 1)
        if counts is None:
            return [up]
        records = GaugeMetricFamily("peyvand_source_records", "Source records stored "
                                    "(records in), by source system.", labels=["source_system"])
        for system, n in counts.records.items():
            records.add_metric([system], n)
        held = GaugeMetricFamily("peyvand_quarantine_open", "Open quarantine entries, by kind "
                                 "(record: it waits whole; values: accepted, some values "
                                 "wait).", labels=["kind"])
        for kind, n in counts.quarantined.items():
            held.add_metric([kind], n)
        customers = GaugeMetricFamily("peyvand_customers", "Customer masters, by status.",
                                      labels=["status"])
        for status, n in counts.customers.items():
            customers.add_metric([status], n)
        return [up, records, held, customers,
                CounterMetricFamily("peyvand_events_published",
                                    "Outbox events published to the bus.",
                                    value=counts.published),
                GaugeMetricFamily("peyvand_events_waiting",
                                  "Outbox events not yet published to the bus.",
                                  value=counts.waiting),
                GaugeMetricFamily("peyvand_relay_lag_seconds", "Age of the oldest event not "
                                  "yet published (0 when none).", value=counts.relay_lag())]


class RequestMetrics:
    """ASGI middleware: each request counted and timed by route template (never the path
    itself: ``/customers/{master_id}``, not a customer's id), method and status."""

    def __init__(self, app: ASGIApp, registry: CollectorRegistry) -> None:
        self.app = app
        labels = ["route", "method", "status"]
        self.requests = Counter("peyvand_http_requests", "HTTP requests answered.",
                                labels, registry=registry)
        self.latency = Histogram("peyvand_http_request_duration_seconds",
                                 "Time to answer an HTTP request, body included.",
                                 labels, registry=registry)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500   # unless a response starts: an exception escapes as a 500
        started = time.perf_counter()

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = scope.get("route")
            method = scope["method"] if scope["method"] in METHODS else "other"
            labels = (getattr(route, "path", UNMATCHED), method, str(status))
            self.requests.labels(*labels).inc()
            self.latency.labels(*labels).observe(time.perf_counter() - started)


def registry_for(engine: Engine) -> CollectorRegistry:
    """A registry with the store's counts and this process's CPU, memory and Python."""
    # The `_created` twin of every counter and histogram doubles the series for a start
    # time Prometheus already has (process_start_time_seconds). Process-wide, as it must.
    disable_created_metrics()   # type: ignore[no-untyped-call]  # unannotated upstream
    registry = CollectorRegistry()
    registry.register(StoreCollector(engine))
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    return registry
