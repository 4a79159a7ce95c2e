"""The sql adapter against the real PostgreSQL and MariaDB: an Odoo-shaped ``res_partner``
(Persian and Latin contacts, companies with persons under them) read end to end through
a project, with the example mapping (mappings/odoo_partners.yaml) and the example query
of the adapter's docs.

Each test gets a schema (PostgreSQL) or a database (MariaDB) of its own, dropped
afterwards. The adapter's URL comes from ``ERP_DATABASE_URL``, set by the test. A source
that is down is a real TCP proxy in front of PostgreSQL that resets connections; a
connection lost mid-read is the database's own ``pg_terminate_backend`` / ``KILL``.

Retries are ``Hub.run``'s: a pipeline whose source is unavailable is tried again
``run.attempts`` times (3 here, as by default) with ``run.retry_wait`` between (0 here),
each attempt resuming after the last committed batch; counting the source (the adapter's
estimate) is the first thing an attempt does. The adapter opens one connection to count
and one to read, so "down for two attempts" is two connections refused.
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool
from structlog.testing import capture_logs

from adapters._sql_connect import SourceDown
from adapters.sql import SqlAdapter
from hub.adapter import SourceContext
from hub.app import Hub
from hub.errors import FatalSourceError, SourceUnavailable
from hub.pipeline import RunStats
from hub.testing import project
from hub.testing.conformance import AdapterConformance

ROOT = Path(__file__).resolve().parents[2]
ENV = "ERP_DATABASE_URL"
T0 = datetime(2026, 11, 24, 10, 0, 0, 123456)

# The example of the adapter's docs: Odoo keeps the country as res_country's id, and a
# mapping has no conditions, so the SELECT adds the ISO code and splits the name.
QUERY = """
SELECT p.id, p.name, p.is_company, p.parent_id, p.vat, p.email, p.phone, p.mobile,
       p.street, p.city, p.zip, c.code AS country_code, p.active, p.write_date,
       CASE WHEN p.is_company THEN p.name END AS company_name,
       CASE WHEN p.is_company THEN NULL ELSE p.name END AS person_name
FROM res_partner p
LEFT JOIN res_country c ON c.id = p.country_id
"""
OPTIONS = {"url_env": ENV, "query": QUERY, "key": "id", "watermark": "write_date",
           "active_column": "active", "deletions": True, "page_size": 3}

COLUMNS = ("id", "name", "is_company", "parent_id", "vat", "email", "phone", "mobile",
           "street", "city", "zip", "country_id", "active", "write_date")
PARTNERS: list[tuple[Any, ...]] = [
    (1, "شرکت داده‌پردازان پارس", True, None, "411111111111", "info@parsdata.ir",
     "021 8888 1234", None, "خیابان ولیعصر، پلاک ۱۲", "تهران", "1516745811", 1),
    (2, "علی کریمی", False, 1, None, "ali.karimi@parsdata.ir", None, "0912 123 4567",
     None, "تهران", None, 1),
    (3, "Müller Handels GmbH", True, None, "DE123456789", "kontakt@mueller-handel.de",
     "+49 30 1234567", None, "Friedrichstraße 10", "Berlin", "10117", 2),
    (4, "Sara Ahmadi", False, None, None, "sara.ahmadi@example.com", None,
     "+98 935 111 2233", "Zand St. 5", "Shiraz", "7134845794", 1),
    (5, "مریم حسینی", False, None, None, None, None, "۰۹۱۲۱۱۱۲۲۳۳", None, "اصفهان", None, 1),
    (6, "Reza Yazdani", False, 3, None, "reza.yazdani@mueller-handel.de", None,
     "09197654321", None, "Berlin", None, 2),
    # Ali again, typed in Latin letters by another clerk: one customer with row 2.
    (7, "Ali Karimi", False, None, None, None, None, "09121234567", None, "Tehran", None, 1),
]


@dataclass
class Erp:
    """An Odoo-shaped database of the test's own: ``url`` for the adapter, ``admin`` to
    change its rows."""

    backend: str
    url: str
    admin: Engine

    def insert(self, rows: list[tuple[Any, ...]], write_date: datetime = T0,
               active: bool = True) -> None:
        names = ", ".join(COLUMNS)
        marks = ", ".join(f":{c}" for c in COLUMNS)
        with self.admin.begin() as conn:
            conn.execute(text(f"INSERT INTO res_partner ({names}) VALUES ({marks})"),
                         [dict(zip(COLUMNS, (*row, active, write_date), strict=True))
                          for row in rows])

    def update(self, partner_id: int, **values: Any) -> None:
        sets = ", ".join(f"{k} = :{k}" for k in values)
        with self.admin.begin() as conn:
            conn.execute(text(f"UPDATE res_partner SET {sets} WHERE id = :id"),
                         {**values, "id": partner_id})

    def execute(self, sql: str) -> None:
        with self.admin.begin() as conn:
            conn.execute(text(sql))


def _schema(erp: Erp, write_date_type: str) -> None:
    """Odoo's columns (a BOOLEAN is a TINYINT(1) in MariaDB), without its foreign keys."""
    erp.execute("CREATE TABLE res_country (id integer PRIMARY KEY, code varchar(2) NOT NULL, "
                "name varchar(64) NOT NULL)")
    erp.execute(
        "CREATE TABLE res_partner (id integer PRIMARY KEY, name varchar(255), "
        "is_company boolean DEFAULT false, parent_id integer, vat varchar(32), "
        "email varchar(255), phone varchar(32), mobile varchar(32), street varchar(255), "
        "city varchar(64), zip varchar(16), country_id integer, "
        f"active boolean DEFAULT true, write_date {write_date_type})")
    # The index the adapter's docs advise: each page is a range scan on it.
    erp.execute("CREATE INDEX res_partner_write_date_id ON res_partner (write_date, id)")
    erp.execute("INSERT INTO res_country VALUES (1, 'IR', 'Iran'), (2, 'DE', 'Germany')")


# PostgreSQL's timestamp (Odoo's write_date: UTC without a zone, microseconds) and
# timestamptz; MariaDB's DATETIME(6), DATETIME (whole seconds: many more ties) and
# TIMESTAMP (stored in UTC, shown in the session's zone).
_KINDS = {
    "postgresql": ("postgresql", "timestamp(6) without time zone"),
    "postgresql-timestamptz": ("postgresql", "timestamp(6) with time zone"),
    "mariadb": ("mariadb", "DATETIME(6)"),
    "mariadb-seconds": ("mariadb", "DATETIME"),
    "mariadb-timestamp": ("mariadb", "TIMESTAMP(6) NULL"),
}


def _kind(name: str) -> Any:
    mark = pytest.mark.postgres if name.startswith("postgresql") else pytest.mark.mariadb
    return pytest.param(name, marks=mark)


@pytest.fixture(name="erp", params=[_kind("postgresql"), _kind("mariadb")])
def _erp(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Erp]:
    backend, write_date_type = _KINDS[request.param]
    make = _postgres if backend == "postgresql" else _mariadb
    with make(request) as erp:
        _schema(erp, write_date_type)
        erp.insert(PARTNERS)
        monkeypatch.setenv(ENV, erp.url)
        yield erp


@contextmanager
def _postgres(request: pytest.FixtureRequest) -> Iterator[Erp]:
    """A schema of the test's own, the search path of every connection to it."""
    base: str = request.getfixturevalue("postgres_url")
    schema = f"t_{uuid.uuid4().hex}"
    root = create_engine(base, poolclass=NullPool)
    with root.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base).update_query_dict(
        # A server in Tehran's time: timestamptz values arrive at +03:30, and the
        # checkpoint must still compare the same instant.
        {"options": f"-csearch_path={schema} -cTimeZone=Asia/Tehran",
         "application_name": schema})   # how _killer finds the adapter's connection
    admin = create_engine(url.update_query_dict({"application_name": "admin"}),
                          poolclass=NullPool)
    try:
        yield Erp("postgresql", url.render_as_string(hide_password=False), admin)
    finally:
        with root.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        root.dispose()


@contextmanager
def _mariadb(request: pytest.FixtureRequest) -> Iterator[Erp]:
    """A database of the test's own (conftest's mariadb_database)."""
    url: str = request.getfixturevalue("mariadb_database")
    yield Erp("mariadb", url, create_engine(url, poolclass=NullPool))


def _hub(root: Path, **options: Any) -> Hub:
    mapping = (ROOT / "mappings" / "odoo_partners.yaml").read_text(encoding="utf-8")
    project(root, {"erp": ("sql", json.dumps({**OPTIONS, **options}), "odoo_partners.yaml")},
            {"odoo_partners.yaml": mapping}, batch_size=2)
    config = root / "config.yaml"
    # Tries of a source that is down follow each other at once here.
    config.write_text(config.read_text(encoding="utf-8").replace(
        "run: {batch_size: 2}", "run: {batch_size: 2, attempts: 3, retry_wait: 0}"),
        encoding="utf-8")
    return Hub.from_config(config, environ={})


class TestSqlConformanceOnServers(AdapterConformance):
    """The adapter contract on the real servers: the example query, every row sharing one
    watermark, read two rows a page."""

    adapter_class = SqlAdapter
    bad_options: ClassVar = {"query": 3, "page_size": "big", "key": ""}

    @pytest.fixture(autouse=True)
    def _on_server(self, erp: Erp) -> None:
        self.erp = erp

    def make_source(self, tmp_path: Path) -> dict[str, Any]:
        return {**OPTIONS, "page_size": 2, "deletions": False}

    def make_transient(self, exc_type: type[BaseException]) -> BaseException:
        if issubclass(exc_type, DBAPIError):   # as SQLAlchemy wraps a driver's error
            return exc_type("SELECT 1", None, ConnectionResetError("simulated outage"))
        return exc_type("simulated outage")


class Crash(Exception):
    """The process stops here (after a committed batch)."""


def _customer(hub: Hub, name: str) -> str:
    [found] = hub.search(name)
    return found.id


# --- a sync, and a second one -----------------------------------------------------------

def test_a_first_sync_creates_the_customers_and_a_second_publishes_nothing(
        erp: Erp, tmp_path: Path) -> None:
    hub = _hub(tmp_path)
    [stats] = hub.run()
    assert (stats.read, stats.created, stats.rejected, stats.set_aside) == (7, 6, 0, 0)
    assert len(hub.events(types=["customer.created"])) == hub.count_customers() == 6

    pars = hub.customer(_customer(hub, "داده‌پردازان"))
    assert pars is not None
    golden = {v.path: v.value for v in pars.values}
    assert golden["kind"] == "organization"
    assert golden["organization.name"] == "شرکت داده‌پردازان پارس"
    assert golden["identifiers.identifier:tax-id"] == "411111111111"
    assert golden["phones.phone:landline"] == "+982188881234"
    assert golden["addresses.address.postalCode"] == "1516745811"
    assert golden["addresses.address.country"] == "IR"
    muller = hub.customer(_customer(hub, "Müller"))
    assert muller is not None
    golden = {v.path: v.value for v in muller.values}
    assert golden["identifiers.identifier:tax-id"] == "DE123456789"
    assert golden["addresses.address.postalCode"] == "10117"   # a German code, kept
    ali = hub.customer(_customer(hub, "علی کریمی"))
    assert ali is not None and ali.sources == ["erp/2", "erp/7"]
    assert {v.path: v.value for v in ali.values}["kind"] == "person"

    before = len(hub.events())
    [again] = hub.run()
    assert (again.read, again.closed) == (0, 0)
    assert len(hub.events()) == before


def test_the_records_hold_json_safe_values_as_the_database_typed_them(erp: Erp,
                                                                      tmp_path: Path) -> None:
    made = SqlAdapter.from_options(OPTIONS, where="erp.yaml",
                                   context=SourceContext(tmp_path))
    first = next(iter(made.read(None)))
    assert first.source_id == "1" and first.location == "query id=1"
    assert first.data["write_date"] == "2026-11-24T10:00:00.123456"
    assert first.data["name"] == first.data["company_name"] == "شرکت داده‌پردازان پارس"
    assert first.data["person_name"] is None and first.data["country_code"] == "IR"
    # A boolean in PostgreSQL, a TINYINT in MariaDB: the mapping's lookup reads both.
    assert first.data["is_company"] in (True, 1)
    position = json.loads(first.checkpoint.value)
    assert position["after"] == ["dt:2026-11-24T10:00:00.123456", "i:1"]


# --- changes ------------------------------------------------------------------------------

def test_rows_updated_between_syncs_publish_exactly_those_changes(erp: Erp,
                                                                 tmp_path: Path) -> None:
    hub = _hub(tmp_path)
    hub.run()
    sara, maryam = _customer(hub, "Sara Ahmadi"), _customer(hub, "مریم حسینی")
    before = hub.events()[-1].seq

    later = T0 + timedelta(hours=2)
    erp.update(4, email="sara.rad@example.com", write_date=later)
    erp.update(5, street="خیابان چهارباغ", write_date=later)
    erp.update(3, city="Hamburg")   # no new write_date: not a change the watermark sees
    [stats] = hub.run()
    assert (stats.read, stats.changed, stats.created) == (2, 2, 0)
    events = hub.events(after=before)
    assert sorted((e.type, e.subject) for e in events) == sorted(
        [("customer.updated", sara), ("customer.updated", maryam)])
    view = hub.customer(sara)
    assert view is not None
    assert {v.value for v in view.values if v.path == "emails.email"} == {
        "sara.rad@example.com"}


@pytest.mark.parametrize("erp", [_kind(k) for k in _KINDS], indirect=True)
def test_rows_sharing_a_watermark_across_batches_are_read_once(erp: Erp,
                                                               tmp_path: Path) -> None:
    # Ten more rows written in one transaction: one write_date (in whole seconds on a
    # DATETIME column, so every row of the test shares it there).
    tie = T0 + timedelta(minutes=5)
    names = ["نسرین ابراهیمی", "Kaveh Moradi", "لیلا صادقی", "Omid Jafari", "پریسا رستمی",
             "Babak Kazemi", "شیرین نوری", "Dariush Farahani", "مهسا تهرانی", "Arash Kamali"]
    erp.insert([(100 + n, name, False, None, None, f"contact{n}@example.com", None,
                 f"0912000{n:04d}", None, "Tehran", None, 1) for n, name in enumerate(names)],
               write_date=tie)
    hub = _hub(tmp_path, page_size=3)

    class StopInsideTheTie:
        """A run that stops after its sixth batch (inside the tie), as a crash would."""

        def __init__(self) -> None:
            self.batches = 0

        def started(self, pipeline: str, total: int | None) -> None:
            assert total == 17

        def advanced(self, pipeline: str, records: int) -> None:
            self.batches += 1
            if self.batches == 6:   # rows 1-7, then 100-104: the checkpoint sits in the tie
                raise Crash("stopped inside the tie")

        def finished(self, pipeline: str, stats: RunStats) -> None:
            pass

    with pytest.raises(Crash):
        hub.run(observer=StopInsideTheTie())
    checkpoint = hub.checkpoint("erp")
    assert checkpoint is not None and json.loads(checkpoint[0])["after"][1] == "i:104"
    [rest] = hub.run()
    assert (rest.read, rest.created) == (5, 5)
    assert hub.count_customers() == 16
    assert len(hub.events(types=["customer.created"])) == 16
    [again] = hub.run()
    assert again.read == 0


# --- deletions ---------------------------------------------------------------------------

def test_a_deleted_row_and_an_archived_row_close_their_links(erp: Erp, tmp_path: Path) -> None:
    hub = _hub(tmp_path)
    hub.run()
    ali, maryam = _customer(hub, "علی کریمی"), _customer(hub, "مریم حسینی")
    versions = {e.subject: e.version for e in hub.events()}
    before = hub.events()[-1].seq

    erp.execute("DELETE FROM res_partner WHERE id = 7")              # Ali's Latin copy
    erp.update(5, active=False, write_date=T0 + timedelta(hours=1))  # archived in Odoo
    [stats] = hub.run()
    assert (stats.closed, stats.created, stats.changed) == (2, 0, 0)
    updated = {e.subject: e for e in hub.events(after=before)}
    assert set(updated) == {ali, maryam}
    assert all(e.type == "customer.updated" for e in updated.values())
    assert updated[ali].version == versions[ali] + 1
    assert updated[ali].data["closed_sources"] == [{"system": "erp", "id": "7"}]
    assert updated[ali].data["customer"]["sources"] == [{"system": "erp", "id": "2"}]
    assert updated[maryam].data["closed_sources"] == [{"system": "erp", "id": "5"}]
    assert updated[maryam].data["customer"]["status"] == "retired"

    last = hub.events()[-1].seq
    [again] = hub.run()
    assert again.closed == 0 and hub.events(after=last) == []


# --- a source that fails ------------------------------------------------------------------

def test_a_connection_lost_mid_read_is_tried_again_from_the_last_batch(
        erp: Erp, tmp_path: Path) -> None:
    hub = _hub(tmp_path, page_size=2)
    kill = _killer(erp)

    class KillAfterFirstBatch:
        def __init__(self) -> None:
            self.killed = 0

        def started(self, pipeline: str, total: int | None) -> None:
            pass

        def advanced(self, pipeline: str, records: int) -> None:
            if not self.killed:
                self.killed = kill()   # the read's connection, between two pages

        def finished(self, pipeline: str, stats: RunStats) -> None:
            pass

    watch = KillAfterFirstBatch()
    with capture_logs() as logs:
        [stats] = hub.run(observer=watch)
    assert watch.killed == 1
    [retry] = [e for e in logs if e["event"] == "source unavailable, trying again"]
    assert retry["attempt"] == 1 and "SourceDown" in retry["error"]
    assert (stats.read, stats.created, stats.rejected) == (7, 6, 0)   # nothing twice
    [run] = hub.runs("erp", limit=1)
    assert run.error is None


def _killer(erp: Erp) -> Any:
    """A function that ends the adapter's open connections from the server's side, as a
    restart or a network cut does; it returns how many it ended."""
    if erp.backend == "postgresql":
        name = make_url(erp.url).query["application_name"]

        def kill() -> int:
            with erp.admin.begin() as conn:
                return len(conn.execute(text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = :name"), {"name": name}).all())
        return kill

    database = make_url(erp.url).database

    def kill_mariadb() -> int:
        with erp.admin.begin() as conn:
            ids = conn.execute(text(
                "SELECT id FROM information_schema.processlist WHERE db = :db "
                "AND id <> CONNECTION_ID()"), {"db": database}).scalars().all()
            for connection_id in ids:
                conn.execute(text(f"KILL CONNECTION {int(connection_id)}"))
        return len(ids)
    return kill_mariadb


def test_bad_names_are_sentences_on_real_servers(erp: Erp, tmp_path: Path) -> None:
    def read(**options: Any) -> None:
        list(SqlAdapter.from_options({**OPTIONS, **options}, where="erp.yaml",
                                     context=SourceContext(tmp_path)).read(None))

    with pytest.raises(FatalSourceError) as caught:
        read(query=None, table="res_partnr")
    assert "no table or view 'res_partnr'" in str(caught.value)
    assert "Did you mean 'res_partner'?" in str(caught.value)
    with pytest.raises(FatalSourceError) as caught:
        read(query="SELECT p.id, c.id, p.write_date FROM res_partner p "
                   "JOIN res_country c ON c.id = p.country_id")
    assert "id" in str(caught.value) and "options.query" in str(caught.value)
    with pytest.raises(FatalSourceError) as caught:
        read(query="SELECT id, nme, write_date FROM res_partner")
    message = str(caught.value)
    assert "nme" in message and "check options.query" in message
    assert "[SQL" not in message and "FROM res_partner" not in message


class FlakyProxy:
    """A TCP proxy on 127.0.0.1 in front of a server (asyncio, in a thread of its own):
    the first ``fail_first`` connections, or every one while ``down``, are reset at once,
    as a server that restarts or a firewall that rejects does; the rest are piped both
    ways. After finding M6's proxy."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.fail_first, self.down = 0, False
        self.accepted = self.failed = 0
        self._writers: set[asyncio.StreamWriter] = set()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._server = self._call(asyncio.start_server(self._handle, "127.0.0.1", 0))
        self.port: int = self._server.sockets[0].getsockname()[1]

    def _call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=10)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
                      ) -> None:
        self.accepted += 1
        if self.down or self.accepted <= self.fail_first:
            self.failed += 1
            writer.transport.abort()   # RST
            return
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self._writers |= {writer, up_writer}
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))

    def close(self) -> None:
        async def stop() -> None:
            self._server.close()
            for writer in self._writers:
                writer.transport.abort()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self._server.wait_closed()
        self._call(stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except OSError:
        pass
    finally:
        writer.close()


@pytest.fixture(name="proxy")
def _proxy(erp: Erp, monkeypatch: pytest.MonkeyPatch) -> Iterator[FlakyProxy]:
    """The proxy in front of the erp's server; the adapter's URL goes through it."""
    url = make_url(erp.url)
    proxy = FlakyProxy((url.host or "127.0.0.1", url.port or 5432))
    monkeypatch.setenv(ENV, url.set(host="127.0.0.1", port=proxy.port)
                       .render_as_string(hide_password=False))
    yield proxy
    proxy.close()


@pytest.mark.parametrize("erp", [_kind("postgresql")], indirect=True)
def test_a_source_down_for_two_attempts_still_syncs(proxy: FlakyProxy, tmp_path: Path) -> None:
    proxy.fail_first = 2
    hub = _hub(tmp_path)
    [stats] = hub.run()   # attempts 1 and 2 fail while counting; the third syncs
    assert proxy.failed == 2
    assert (stats.read, stats.created) == (7, 6)
    [run] = hub.runs("erp", limit=1)
    assert run.error is None


@pytest.mark.parametrize("erp", [_kind("postgresql")], indirect=True)
def test_a_source_that_stays_down_fails_naming_it_and_keeps_its_checkpoint(
        erp: Erp, proxy: FlakyProxy, tmp_path: Path) -> None:
    hub = _hub(tmp_path)
    hub.run()
    kept = hub.checkpoint("erp")
    erp.insert([(8, "Nima Rahimi", False, None, None, "nima@example.com", None, None, None,
                 "Tabriz", None, 1)], write_date=T0 + timedelta(days=1))

    proxy.down = True
    with pytest.raises(SourceUnavailable) as caught:
        hub.run()
    message = str(caught.value)
    assert message.startswith("pipeline 'erp': its source is still unavailable after 3 "
                              "attempt(s)")
    assert f"sql: the source is unavailable (SourceDown: the database at " \
           f"postgresql+psycopg://postgres@127.0.0.1:{proxy.port}/" in message
    assert proxy.failed == 3
    assert hub.checkpoint("erp") == kept
    [run] = hub.runs("erp", limit=1)
    assert run.error is not None and "still unavailable" in run.error

    proxy.down = False
    [stats] = hub.run()
    assert (stats.read, stats.created) == (1, 1)


@pytest.mark.parametrize("erp", [_kind("postgresql")], indirect=True)
def test_the_adapter_declares_a_refused_connection_transient(proxy: FlakyProxy,
                                                             tmp_path: Path) -> None:
    proxy.down = True
    made = SqlAdapter.from_options(OPTIONS, where="erp.yaml", context=SourceContext(tmp_path))
    with pytest.raises(SourceUnavailable) as caught:
        list(made.read(None))
    assert str(caught.value).startswith("sql: the source is unavailable")
    cause = caught.value.__cause__
    assert isinstance(cause, SourceDown) and isinstance(cause, made.transient_errors)
    assert "reading options.query" in str(cause)
    with pytest.raises(SourceUnavailable):
        made.total(None)
